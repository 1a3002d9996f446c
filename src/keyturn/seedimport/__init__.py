"""`keyturn import-seed`: move a running seed system (the shop backend of seeds 000-003 and
the JobPsych API of seed 004) into one keyturn market, ids kept, all or nothing
(docs/migrating-from-the-seed-systems.md)."""
