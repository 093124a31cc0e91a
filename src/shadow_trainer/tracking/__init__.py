"""People across frames: one tracker, and the typed series of tracks it hands to the punch stage."""
