"""What every Flask-facing package shares (webhooks/, agents/http.py, supervisor/, devphone/http.py):

- runtime.py: `Runtime`, what a running app is wired to, and `runtime()` inside a request.
- problems.py: the one problem+json response.
- errors.py: how refusals and errors are rendered, bounded bodies, security headers.
- limits.py: the rate limiter and its quotas.
- bodies.py: the one way a JSON body is read.

Domain packages never import this package (it imports Flask); it imports no domain package.
"""
