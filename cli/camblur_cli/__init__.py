"""`camblur`: the operator's command for a deployed camblur stack (AWS or the embedded endpoint)."""
