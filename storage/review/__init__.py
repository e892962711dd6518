"""The review's facts read from the database, exports and digests."""
