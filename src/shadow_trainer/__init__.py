"""Shadow Trainer analysis engine: video decode, pose, punch classification, rendering, reports."""
