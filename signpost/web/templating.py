"""Jinja set-up that keeps page rendering cheap.

Two costs dominate a form page: GOV.UK Frontend's macros themselves, and Jinja's bookkeeping
for each `{% from ... import %}` they do. Both are pure, so:

- Every import asks whether the importing template has globals the imported one lacks, by a
  set difference over a ChainMap of every global. Templates here all come from one environment
  with no globals of their own, so FastImports keeps each template's global names as a
  frozenset (refreshed when globals are added) and answers with one C set operation.
- warm() compiles every template, and builds the module of every template that is imported,
  before gunicorn forks its workers (gunicorn.conf.py, with preload_app), so no worker spends its
  first requests compiling: about a second of CPU for every worker started or restarted.
- GOV.UK Frontend's form component macros (govukInput, govukRadios, ...) give the same markup for
  the same parameters, so their output is remembered, keyed by the parameters. What a person
  typed is never kept: a component's typed value (an input's or textarea's, a date's parts)
  is left out of the key and the stored markup holds a marker in its place, filled in with the
  escaped value on each call. Anything the key cannot represent is rendered as before.
"""
from __future__ import annotations

from jinja2 import Environment, Template, nodes
from jinja2.runtime import Macro, Undefined
from markupsafe import Markup, escape

COMPONENTS = "govuk_frontend_jinja/components/"
TYPED = {"govukInput", "govukTextarea", "govukCharacterCount", "govukPasswordInput"}  # params.value
TYPED_ITEMS = {"govukDateInput"}  # items[].value
# Only form components are remembered: their parameters are the service's own words and codes
# (typed values are left out, above). Components that show a record's details (summary lists,
# tables, panels, banners) are rendered afresh, so no child's details are kept in memory.
REMEMBERED = {"govukInput", "govukTextarea", "govukCharacterCount", "govukPasswordInput", "govukDateInput",
              "govukRadios", "govukCheckboxes", "govukSelect", "govukButton", "govukErrorSummary",
              "govukFieldset", "govukWarningText", "govukInsetText", "govukDetails", "govukBackLink",
              "govukServiceNavigation", "govukFileUpload"}
MAX_REMEMBERED = 2000


class FastImports(Template):
    _names: tuple[int, frozenset] | None = None

    def _get_default_module(self, ctx=None):
        if ctx is not None:
            size = len(self.environment.globals)
            if self._names is None or self._names[0] != size:
                self._names = (size, frozenset(self.globals))
            if not ctx.globals_keys.difference(self._names[1]):
                ctx = None  # no globals the cached module lacks: Jinja would use it too
        if ctx is None and self._module is None and (self.name or "").startswith(COMPONENTS):
            module = super()._get_default_module()
            for name, value in list(vars(module).items()):
                if isinstance(value, Macro) and name in REMEMBERED:
                    setattr(module, name, Remembered(value, name))
            return module
        return super()._get_default_module(ctx)


class Unkeyable(Exception):
    pass


def _key(value):
    """A hashable, type-exact image of macro parameters (Markup and str kept apart)."""
    if value is None:
        return None
    kind = type(value)
    if kind is str or kind is int or kind is bool or kind is float:
        return (kind.__name__, value)
    if kind is Markup:
        return ("markup", str(value))
    if kind is dict:
        return ("dict", tuple((k, _key(v)) for k, v in value.items()))
    if kind is list or kind is tuple:
        return ("list", tuple(_key(v) for v in value))
    if isinstance(value, Undefined):
        return ("undefined",)
    raise Unkeyable


class Remembered:
    """A GOV.UK Frontend macro whose markup is remembered per parameters (typed values aside)."""

    def __init__(self, macro: Macro, name: str):
        self.macro, self.name = macro, name
        self.seen: dict = {}

    def _typed_out(self, params: dict) -> tuple[dict, list[str]]:
        """The parameters with each typed value swapped for a marker, and the values."""
        values = []

        def marked(value):
            if isinstance(value, str) and value:
                values.append(value)
                return f"\x00{len(values) - 1}\x00"
            return value
        if self.name in TYPED and "value" in params:
            params = {**params, "value": marked(params["value"])}
        if self.name in TYPED_ITEMS and isinstance(params.get("items"), list):
            params = {**params, "items": [{**item, "value": marked(item["value"])}
                                          if isinstance(item, dict) and "value" in item else item
                                          for item in params["items"]]}
        return params, values

    def __call__(self, *args, **kwargs):
        if kwargs or len(args) != 1 or type(args[0]) is not dict:  # a {% call %}, or unusual use
            return self.macro(*args, **kwargs)
        params, values = self._typed_out(args[0])
        try:
            key = _key(params)
        except Unkeyable:
            return self.macro(*args)
        html = self.seen.get(key)
        if html is None:
            html = str(self.macro(params))
            if any(f"\x00{n}\x00" not in html for n in range(len(values))):
                return self.macro(*args)  # a value the macro transformed: render it as it is
            if len(self.seen) >= MAX_REMEMBERED:
                self.seen.clear()
            self.seen[key] = html
        for n, value in enumerate(values):
            html = html.replace(f"\x00{n}\x00", str(escape(value)))
        return Markup(html)


def warm(env: Environment) -> int:
    """Compile every template the environment can load and build the module of every template
    imported without the page's context (macros, GOV.UK Frontend's components); how many templates.

    Call it in a process that forks afterwards: each child then starts with the compiled templates
    and modules instead of compiling them on its first requests. A template that does not compile
    raises here, at start-up, rather than on the first page that uses it.
    """
    names = env.list_templates()
    imported = set()
    for name in names:
        source, _filename, _uptodate = env.loader.get_source(env, name)
        for node in env.parse(source, name).find_all((nodes.Import, nodes.FromImport)):
            if isinstance(node.template, nodes.Const) and not node.with_context:
                imported.add(node.template.value)
        env.get_template(name)
    for name in sorted(imported):
        env.get_template(name).module  # noqa: B018  (built and kept by the template)
    return len(names)
