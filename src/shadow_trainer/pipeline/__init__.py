"""The analysis of one video: the pose pass, the render pass, prefetch and progress."""
