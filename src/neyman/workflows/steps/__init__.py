"""The steps that several verbs share and that read the configuration.

Each verb of :mod:`neyman.workflows` is one module with one public function; what
they have in common and what still needs the configuration object (reading the
events a config names, building its representation, model and trainer, opening
its tracking store) lives here.  Nothing below :mod:`neyman.workflows` sees a
configuration.
"""
