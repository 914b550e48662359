"""The risk app's services, by subdomain: `loanbook` (what banks report about
their loans)."""
