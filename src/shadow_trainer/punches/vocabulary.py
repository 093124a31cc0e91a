"""The words of punches.json: punch types, hands, sides."""

PUNCH_TYPES = ("jab", "cross", "hook", "uppercut")
HANDS = ("left", "right")
SIDES = ("lead", "rear")
