"""A worker that dies mid-batch, for test_worker_crash: run as a subprocess and SIGKILLed.

It processes a batch in which every `widget.*` handler upserts a Widget; after the second
event it says so on stdout and hangs until killed, inside the open batch transaction.
"""

from __future__ import annotations

import os
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "paydesk.settings")

import django  # noqa: E402

django.setup()

from tests.workbench.support import Widget  # noqa: E402
from workbench import services  # noqa: E402
from workbench.dispatch import handles  # noqa: E402
from workbench.mirror import upsert  # noqa: E402

handled = []


@handles("widget.*")
def store_then_hang(event) -> None:
    upsert(
        Widget,
        account=event.account,
        livemode=event.livemode,
        obj=event.object,
        fields={"color": event.object.get("color", "")},
        source_time=event.created,
        source_sequence=event.sequence,
    )
    handled.append(event.stripe_id)
    if len(handled) == 2:
        print("mid-batch", flush=True)
        while True:
            time.sleep(1)


if __name__ == "__main__":
    services.events_process_batch(batch_size=int(sys.argv[1]))
    print("finished", flush=True)
