import pytest

from sandbox import demo

pytestmark = pytest.mark.django_db


def test_a_seed_that_never_finished_is_told_apart_from_a_complete_one():
    assert demo.seed_state() == "absent"

    demo.seed_tenants_and_team()  # what an interrupted seed leaves behind
    assert demo.seed_state() == "partial"

    demo.mark_seeded(scale="small", seed=1)
    assert demo.seed_state() == "complete"


def test_starting_over_forgets_that_the_demo_was_complete():
    demo.seed_tenants_and_team()
    demo.mark_seeded(scale="small", seed=1)

    demo.delete_demo()

    assert demo.seed_state() == "absent"
