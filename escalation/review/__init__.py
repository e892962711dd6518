"""The review's arithmetic: figures, fast rows, periods, zones, off-hours, weekly slots."""
