"""Seed-shaped APIs over keyturn's own services, each switched on by `KEYTURN_COMPAT`:
`jobpsych` (seed 004's Express API, docs/compat-jobpsych.md) and `mobile-v0` (the shop app of
seeds 000-003 on /api/v1, docs/migrating-from-the-seed-systems.md). Off, they cost nothing."""
