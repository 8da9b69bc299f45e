"""Accounts: people, their passwords, membership, and their sign-in (SSO) sessions."""
