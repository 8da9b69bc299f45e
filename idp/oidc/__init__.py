"""The OpenID Provider: Authlib wiring, grants, endpoints, claims, keys, discovery, clients."""
