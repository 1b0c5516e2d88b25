"""Reading the record out: Atom feeds, CSV / JSON Lines exports, Datasette, atomic files."""
