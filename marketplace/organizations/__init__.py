"""Organizations: creating one, members, invitations and approval to upload (services), and their pages."""
