"""The demo instance ``manage.py seed_demo`` builds: its people (``people``), its archives
(``archives``) and the stories that bring them in through the services (``world``)."""
