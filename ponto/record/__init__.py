"""The legal record (Portaria 671 REP-P): registry rules, the seal, the AFD."""
