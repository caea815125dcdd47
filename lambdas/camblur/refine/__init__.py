"""The daily refinement: queue a capture day, refine each picture with the Custom Labels model,
and keep the model running only while there is work (see docs/architecture.md)."""
