"""The funds app's rules, by subdomain: funds (keeping a fund and its life),
investments (recording them, the paid-in ceiling), matching (equity demands
and funds through the matching engine), stats (equity financing figures)."""
