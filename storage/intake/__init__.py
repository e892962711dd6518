"""From inbox to alert: stored webhook bodies, processing them, noise at opening, re-grading,
mirrors.
"""
