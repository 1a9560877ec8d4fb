"""The distro's configuration layer: every setting declared once (``declarations``, each a
``setting.Setting``), read by one loader for the environment, explicit arguments and the
configuration file (``loader``, ``file``), the run-time settings as one value
(``runtime_settings.RuntimeSettings``), the ``OTEL_*`` values the SDK reads repaired before
it reads them (``sdk_variables``), and ``docs/configuration.md``'s table generated from the
declarations (``docs``).

It imports nothing from the runtime wiring (configurator, runtime, sampling, exporting):
they import it. Import the modules themselves; this one re-exports nothing, so that it
adds no layer.

A new setting is one ``Setting`` (variables, parser, bounds, default, doc) in
``declarations.SETTINGS`` or a table it lists (``distro_declarations``,
``legacy_declarations``) plus, when it is a field, one typed line naming it in ``TracingConfig`` or
``RuntimeSettings`` (its default comes from the declaration), then its use; ``make docs``
regenerates the table, and the tests fail until both agree.
"""
