"""The HTTP edge: webhook intake (handler, formats, body checks, rate limit), request ids, OpenAPI
and webhook docs.
"""
