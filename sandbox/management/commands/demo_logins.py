from django.core.management.base import BaseCommand

from sandbox import demo


class Command(BaseCommand):
    help = "Set and print new passwords for the demo team logins."

    def handle(self, **options):
        rows = demo.reset_demo_passwords()
        if not rows:
            return "No demo logins exist (run `manage.py seed_demo`).\n"
        width = max(len(email) for email, _, _ in rows)
        lines = ["Demo logins (new passwords, printed only now):"]
        lines += [f"  {email:<{width}}  {password}   {roles}" for email, password, roles in rows]
        return "\n".join(lines) + "\n"
