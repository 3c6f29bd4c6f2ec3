"""Pure D&D 5e (SRD 5.1) rules engine: no I/O, no wall clock, no global random."""
