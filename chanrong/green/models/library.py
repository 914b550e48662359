"""Models of the green app's library subdomain."""
