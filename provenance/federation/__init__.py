"""Federation with other instances: following a peer's catalog (``following``), witnessing its
transparency log (``witnessing``), the checks of its signed tree heads both share (``heads``), and
the one module that talks HTTP to peers (``client``). Pages in ``views``, the API in ``api``."""
