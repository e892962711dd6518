"""On-call schedules outside Slack: the calendar feeds of rotations and people (which shifts,
their iCalendar text, the feeds' secret tokens, the HTTP routes)."""
