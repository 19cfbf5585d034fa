"""Output: alerts/incidents in every format (``render``) and the run accounting (``summary``)."""
