"""Drawing the annotated video: skeletons, boxes, punch labels."""
