"""The output documents (keypoints, punches, summary) and the pose log: read and written here only."""
