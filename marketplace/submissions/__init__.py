"""Submissions: a contributor's draft (drafts), its uploads and their validation (uploads,
validation, reports), and review, which publishes it (review). rules holds what every step reads."""
