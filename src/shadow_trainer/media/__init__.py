"""Video in and out: streaming decode with PyAV, frame geometry, H.264 encode."""
