"""OpenID for Verifiable Presentations 1.0 with DCQL, as HAIP 1.0 profiles it: pure protocol steps.

`dcql` parses and answers queries, `request` signs and checks request objects, `response` carries the
``vp_token``, `verify` checks a response against its request, `presets` holds the queries cancuoc uses.
"""
