"""Models of the green app's carbon subdomain."""
