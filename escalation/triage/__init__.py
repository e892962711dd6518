"""What an alert event becomes: its level (grading, re-grading) and its route (matchers, time
windows).
"""
