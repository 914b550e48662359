"""Models of the green app's disclosure subdomain."""
