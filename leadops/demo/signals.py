"""What the demo seeding tells the feature apps, so each sets up its own part of the demo world.

The core app never imports routing, SLA or playbooks; they connect to this signal and add territories, clocks,
... to the freshly seeded world, inside the seeding transaction.
"""

from django.dispatch import Signal

# Sent at the end of seed_demo's transaction with `anchor` (the demo's "today", a date) and `seed` (an int).
demo_world_seeded = Signal()

# Sent by `seed_demo --reset` before the demo teams and users are deleted, with `team_names` and `usernames`, so apps
# remove what of theirs points at them (territories of those teams, set-up drafts those users made, ...).
demo_world_resetting = Signal()
