"""The review: the web page and its sign-in, charts, query filters, reports and their formats,
exports.
"""
