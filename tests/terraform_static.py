"""Static checks of infra/terraform for where `terraform validate` cannot run: it needs the providers,
which only their registry serves. Each check returns the problems it found, as sentences naming the
file and the thing; an empty list means the check passed.

Why one module: every check reads the same parsed files and module graph (``Module``), built once here."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import hcl2
from hcl2 import SerializationOptions

from tests.terraform_expressions import FUNCTIONS, EvaluationError, Namespace, Scope, Unknown, parse_template

_OPTIONS = SerializationOptions(strip_string_quotes=True, explicit_blocks=False, with_comments=False)
# Meta-arguments of a module block: not variables of the module.
_MODULE_META = {"source", "version", "for_each", "count", "depends_on", "providers"}
_NAME = r"[A-Za-z_][\w-]*"
_SYMBOL = re.compile(rf"(?<![\w.-])(var|local|module|data)\.({_NAME})(?:\.({_NAME}))?(?:\.({_NAME}))?")
_SOURCE_SUFFIXES = {".tf", ".tfvars", ".hcl", ".tftpl", ".json", ".md"}
# A constraint that admits one release, or its patch releases only.
_PINNED = re.compile(r"^(=\s*)?\d+\.\d+\.\d+$|^~>\s*\d+\.\d+\.\d+$")

# Credentials as they look when pasted into a file. None may appear anywhere under infra/terraform.
SECRET_PATTERNS = {
    "a Databricks personal access token": re.compile(r"dapi[0-9a-f]{32}"),
    "a private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "a JSON web token": re.compile(r"eyJ[\w-]{10,}\.eyJ[\w-]{10,}"),
    "an Azure AD client secret": re.compile(r"(?<![\w~.-])[\w~.-]{3}\dQ~[\w~.-]{31,34}"),
    "a storage account key": re.compile(r"(?<![A-Za-z0-9+/])[A-Za-z0-9+/]{86}=="),
    "a SAS signature": re.compile(r"[?&]sig=[A-Za-z0-9%+/=]{20,}"),
    "a connection string with a key": re.compile(r"(?i)(AccountKey|SharedAccessKey)="),
}
# Arguments that hold a credential: they may only ever be references, filled from the environment.
SECRET_ARGUMENTS = {
    "token",
    "password",
    "client_secret",
    "access_key",
    "account_key",
    "sas_token",
    "private_key",
    "client_certificate_password",
}


def parse(path: Path) -> dict[str, Any]:
    with path.open() as handle:
        return hcl2.load(handle, serialization_options=_OPTIONS)


def _blocks(document: dict[str, Any], kind: str) -> Iterator[dict[str, Any]]:
    yield from document.get(kind, [])


def strings(value: Any) -> Iterator[str]:
    """Every string in a parsed document, expressions included (they serialise as "${...}")."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


@dataclass
class Module:
    """One folder of .tf files: a root or a child module."""

    path: Path
    variables: dict[str, dict[str, Any]] = field(default_factory=dict)
    locals: dict[str, Any] = field(default_factory=dict)
    """Name -> its expression, as python-hcl2 serialises it."""
    local_files: dict[str, Path] = field(default_factory=dict)
    resources: dict[str, dict[str, Any]] = field(default_factory=dict)
    data: set[str] = field(default_factory=set)
    modules: dict[str, dict[str, Any]] = field(default_factory=dict)
    module_files: dict[str, Path] = field(default_factory=dict)
    outputs: set[str] = field(default_factory=set)
    required_providers: dict[str, dict[str, Any]] = field(default_factory=dict)
    required_version: str | None = None
    documents: dict[Path, dict[str, Any]] = field(default_factory=dict)


@cache
def load_module(path: Path) -> Module:
    module = Module(path)
    for file in sorted(path.glob("*.tf")):
        document = parse(file)
        module.documents[file] = document
        for block in _blocks(document, "variable"):
            module.variables.update(block)
        for block in _blocks(document, "locals"):
            module.locals.update(block)
            module.local_files.update(dict.fromkeys(block, file))
        for block in _blocks(document, "resource"):
            for kind, named in block.items():
                module.resources.update({f"{kind}.{name}": body for name, body in named.items()})
        for block in _blocks(document, "data"):
            for kind, named in block.items():
                module.data.update(f"{kind}.{name}" for name in named)
        for block in _blocks(document, "module"):
            module.modules.update(block)
            module.module_files.update(dict.fromkeys(block, file))
        for block in _blocks(document, "output"):
            module.outputs.update(block)
        for block in _blocks(document, "terraform"):
            module.required_version = block.get("required_version", module.required_version)
            for providers in block.get("required_providers", []):
                module.required_providers.update(providers)
    return module


def _checked(root: Path, pattern: str) -> Iterator[Path]:
    # .terraform/ holds what `terraform init` fetched: providers and remote modules, not ours to check.
    return (path for path in root.rglob(pattern) if ".terraform" not in path.relative_to(root).parts)


def modules_under(root: Path) -> list[Path]:
    return sorted({file.parent for file in _checked(root, "*.tf")})


def source_files(root: Path) -> list[Path]:
    """The files a credential could be pasted into: configuration, variables, templates."""
    return sorted(path for path in _checked(root, "*") if path.is_file() and path.suffix in _SOURCE_SUFFIXES)


def reference_problems(path: Path, provider_names: set[str]) -> list[str]:
    """Every var., local., module., data. and resource reference names something declared; every module
    call passes only variables its module declares, and all those without a default; every variable
    declared is used; every provider a resource or data source needs is in required_providers."""
    module = load_module(path)
    where = path.name
    problems: list[str] = []
    resource_ref = re.compile(rf"(?<![\w.-])((?:{'|'.join(sorted(provider_names))})_\w+)\.({_NAME})")
    used_variables: set[str] = set()
    for file, document in module.documents.items():
        for text in strings(document):
            for kind, first, second, _attribute in _SYMBOL.findall(text):
                if kind == "var":
                    used_variables.add(first)
                    if first not in module.variables:
                        problems.append(f"{where}/{file.name}: var.{first} is not declared")
                elif kind == "local" and first not in module.locals:
                    problems.append(f"{where}/{file.name}: local.{first} is not declared")
                elif kind == "data" and f"{first}.{second}" not in module.data:
                    problems.append(f"{where}/{file.name}: data.{first}.{second} is not declared")
                elif kind == "module":
                    if first not in module.modules:
                        problems.append(f"{where}/{file.name}: module.{first} is not declared")
                    elif second and second not in child(path, module.modules[first]).outputs:
                        problems.append(f"{where}/{file.name}: module.{first} has no output '{second}'")
            for kind, name in resource_ref.findall(text):
                if f"{kind}.{name}" not in module.resources:
                    problems.append(f"{where}/{file.name}: {kind}.{name} is not declared")
    for name in sorted(set(module.variables) - used_variables):
        problems.append(f"{where}: variable '{name}' is declared but never used")
    for name, call in module.modules.items():
        target = child(path, call)
        if not target.documents:
            problems.append(f"{where}: module.{name} has source '{call['source']}', which holds no .tf file")
            continue
        passed = set(call) - _MODULE_META
        for argument in sorted(passed - set(target.variables)):
            problems.append(f"{where}: module.{name} passes '{argument}', which {target.path.name} does not declare")
        required = {variable for variable, spec in target.variables.items() if "default" not in spec}
        for argument in sorted(required - passed):
            problems.append(f"{where}: module.{name} does not pass '{argument}', which {target.path.name} requires")
    needed = {kind.split("_", 1)[0] for kind in module.resources} | {kind.split("_", 1)[0] for kind in module.data}
    for provider in sorted(needed - set(module.required_providers)):
        problems.append(f"{where}: resources of provider '{provider}' but no required_providers entry for it")
    return problems


def child(path: Path, call: dict[str, Any]) -> Module:
    return load_module((path / call["source"]).resolve())


def provider_problems(paths: list[Path]) -> list[str]:
    """Every folder states required_version and pins each provider it requires, to one release or its
    patch releases, the same way in every folder."""
    problems: list[str] = []
    by_source: dict[str, set[str]] = {}
    for path in paths:
        module = load_module(path)
        if not module.required_version:
            problems.append(f"{path.name}: no required_version")
        for name, spec in module.required_providers.items():
            version = spec.get("version", "")
            if not spec.get("source"):
                problems.append(f"{path.name}: provider '{name}' has no source")
            if not _PINNED.match(version):
                problems.append(f"{path.name}: provider '{name}' is not pinned ('{version}')")
            by_source.setdefault(spec.get("source", name), set()).add(version)
    for source, versions in sorted(by_source.items()):
        if len(versions) > 1:
            problems.append(f"provider {source} is pinned differently in different folders: {sorted(versions)}")
    return problems


def tfvars_problems(root: Path, tfvars: Path) -> list[str]:
    """A variables file sets only variables the root declares, every one without a default, each with a
    value of the declared type."""
    module = load_module(root)
    values = parse(tfvars)
    problems = [
        f"{tfvars.name}: '{name}' is not a variable of {root.name}" for name in values if name not in module.variables
    ]
    for name, spec in module.variables.items():
        if name not in values:
            if "default" not in spec:
                problems.append(f"{tfvars.name}: sets no '{name}', which {root.name} requires")
            continue
        problems.extend(
            f"{tfvars.name}: '{name}' {issue}" for issue in type_issues(spec.get("type", "any"), values[name])
        )
    return problems


_PRIMITIVES: dict[str, tuple[type, ...]] = {"string": (str,), "number": (int, float), "bool": (bool,)}


def type_issues(declared: str, value: Any) -> list[str]:
    """Whether a literal fits a type constraint: primitives, list/set/map of primitives, flat objects."""
    declared = declared.removeprefix("${").removesuffix("}").strip()
    if declared == "any":
        return []
    if declared in _PRIMITIVES:
        ok = isinstance(value, _PRIMITIVES[declared]) and not (declared == "number" and isinstance(value, bool))
        return [] if ok else [f"is {value!r}, not a {declared}"]
    collection = re.fullmatch(r"(list|set|map)\((\w+)\)", declared)
    if collection:
        kind, element = collection.groups()
        items = list(value.values()) if kind == "map" and isinstance(value, dict) else value
        if not isinstance(items, list) or (kind == "map") != isinstance(value, dict):
            return [f"is {value!r}, not a {kind}"]
        return [issue for item in items for issue in type_issues(element, item)]
    shape = re.fullmatch(r"object\(\{(.*)\}\)", declared, re.S)
    if shape:
        attributes = dict(re.findall(r"(\w+)\s*=\s*(\w+)", shape.group(1)))
        if not isinstance(value, dict):
            return [f"is {value!r}, not an object"]
        if set(value) != set(attributes):
            return [f"has keys {sorted(value)}, the type has {sorted(attributes)}"]
        return [issue for key, kind in attributes.items() for issue in type_issues(kind, value[key])]
    return [f"has a type the static check does not know: {declared}"]


def secret_problems(files: list[Path]) -> list[str]:
    """No credential in any file, no credential argument set to a literal, no sensitive variable with a
    default: credentials reach Terraform through the pipeline's environment only."""
    problems: list[str] = []
    for file in files:
        text = file.read_text()
        problems.extend(
            f"{file.name}: holds {what}" for what, pattern in SECRET_PATTERNS.items() if pattern.search(text)
        )
        if file.suffix in {".tf", ".tfvars", ".hcl"}:
            for name, value in _arguments(parse(file)):
                if name in SECRET_ARGUMENTS and not (isinstance(value, str) and value.startswith("${")):
                    problems.append(f"{file.name}: '{name}' is set to a literal")
            for block in _blocks(parse(file), "variable") if file.suffix == ".tf" else ():
                for name, spec in block.items():
                    if spec.get("sensitive") is True and "default" in spec:
                        problems.append(f"{file.name}: sensitive variable '{name}' has a default")
    return problems


def _arguments(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _arguments(item)
    elif isinstance(value, list):
        for item in value:
            yield from _arguments(item)


class Evaluation:
    """The values a plan gives one module's variables and locals: a root's come from a variables file
    (and the defaults), a child's from the arguments of the call to it. What only apply knows raises
    ``Unknown``."""

    def __init__(self, module: Module, arguments: Mapping[str, Callable[[], Any]], root: Path | None = None) -> None:
        self.module = module
        self._arguments = arguments
        self._locals: dict[str, Any] = {}
        self._evaluating: set[str] = set()
        root = root or module.path
        self._scope = Scope(
            {
                "var": Namespace("var", self.variable),
                "local": Namespace("local", self.local),
                "path": {"module": str(module.path), "root": str(root), "cwd": str(root)},
            },
            FUNCTIONS,
        )
        self._root = root

    @classmethod
    def of_root(cls, path: Path, tfvars: Path | None = None) -> Evaluation:
        values = parse(tfvars) if tfvars else {}
        return cls(load_module(path), {name: _constantly(value) for name, value in values.items()})

    def variable(self, name: str) -> Any:
        if name not in self.module.variables:
            raise EvaluationError(f"var.{name} is not declared")
        if name in self._arguments:
            return self._arguments[name]()
        spec = self.module.variables[name]
        if "default" not in spec:
            raise EvaluationError(f"var.{name} has no value and no default")
        return spec["default"]

    def local(self, name: str) -> Any:
        if name in self._locals:
            return self._locals[name]
        if name not in self.module.locals:
            raise EvaluationError(f"local.{name} is not declared")
        if name in self._evaluating:
            raise EvaluationError(f"local.{name} depends on itself")
        self._evaluating.add(name)
        try:
            value = self.value(self.module.locals[name])
        except EvaluationError as exc:
            exc.local = exc.local or name
            raise
        finally:
            self._evaluating.discard(name)
        self._locals[name] = value
        return value

    def value(self, serialized: Any) -> Any:
        """The value of an expression as python-hcl2 serialises it (a literal, or text with ``${...}``)."""
        if isinstance(serialized, str):
            return parse_template(serialized)(self._scope)
        if isinstance(serialized, dict):
            return {key: self.value(item) for key, item in serialized.items()}
        if isinstance(serialized, list):
            return [self.value(item) for item in serialized]
        return serialized

    def child(self, name: str) -> Evaluation:
        """The module ``module.<name>`` calls, with the values of the call's arguments."""
        call = self.module.modules[name]
        arguments = {
            argument: _lazily(self.value, expression)
            for argument, expression in call.items()
            if argument not in _MODULE_META
        }
        return Evaluation(child(self.module.path, call), arguments, self._root)


def _constantly(value: Any) -> Callable[[], Any]:
    return lambda: value


def _lazily(function: Callable[[Any], Any], argument: Any) -> Callable[[], Any]:
    return lambda: function(argument)


_LOCAL_TRAVERSAL = re.compile(rf'(?<![\w.-])local\.{_NAME}(?:\.{_NAME}|\.\d+|\[\d+\]|\["[^"$]*"\])*')


def evaluation_problems(path: Path, tfvars: Path | None = None) -> list[str]:
    """What a plan of the root with this variables file evaluates before it creates anything: every local
    (a YAML file it reads, a key it takes from that file), every module argument, every other
    ``local.<name>.<key>...`` in the module's files, and every variable validation, the root's and,
    with the values of the calls, its child modules'. Whatever needs a value only apply knows is left
    out."""
    evaluation = Evaluation.of_root(path, tfvars)
    suffix = f" with {tfvars.name}" if tfvars else ""
    problems = _evaluation_problems(evaluation, path.name, suffix)
    return list(dict.fromkeys(problems))


def _evaluation_problems(evaluation: Evaluation, where: str, suffix: str) -> list[str]:
    module = evaluation.module
    problems: list[str] = []
    # A local that fails is reported once, as itself, not again by each expression that uses it.
    for name, file in module.local_files.items():
        try:
            evaluation.local(name)
        except Unknown:
            continue
        except EvaluationError as exc:
            if exc.local == name:
                problems.append(f"{where}/{file.name}: local.{name}{suffix}: {exc}")
    for name, file in module.module_files.items():
        for argument, expression in module.modules[name].items():
            if argument in _MODULE_META:
                continue
            try:
                evaluation.value(expression)
            except Unknown:
                continue
            except EvaluationError as exc:
                if exc.local is None:
                    problems.append(f"{where}/{file.name}: module.{name}'s {argument}{suffix}: {exc}")
    for file, document in module.documents.items():
        # The expressions of locals and module arguments are evaluated whole, above.
        for text in strings({kind: blocks for kind, blocks in document.items() if kind not in ("locals", "module")}):
            for traversal in _LOCAL_TRAVERSAL.findall(text):
                try:
                    evaluation.value("${" + traversal + "}")
                except Unknown:
                    continue
                except EvaluationError as exc:
                    if exc.local is None:
                        problems.append(f"{where}/{file.name}: {traversal}{suffix}: {exc}")
    for name, spec in module.variables.items():
        rules = spec.get("validation", [])
        try:
            evaluation.variable(name)
        except (Unknown, EvaluationError):
            continue  # no value before apply, or one whose expression is reported where it is
        for rule in [rules] if isinstance(rules, dict) else rules:
            try:
                if evaluation.value(rule["condition"]) is not True:
                    problems.append(f"{where}: var.{name}{suffix}: {evaluation.value(rule['error_message'])}")
            except Unknown:
                continue
            except EvaluationError as exc:
                problems.append(f"{where}: var.{name}{suffix}: its validation fails: {exc}")
    for name in module.modules:
        problems.extend(_evaluation_problems(evaluation.child(name), f"{where}/module.{name}", suffix))
    return problems


def render_cluster_policy(environment_root: Path, tfvars: Path) -> dict[str, Any]:
    """The etl_restricted policy definition a plan with this variables file creates: the workspace
    module's definition evaluated with the arguments the root passes it, which come from the variables
    file and from config/variables/<env>.yaml (the root's locals)."""
    root = Evaluation.of_root(environment_root, tfvars)
    (name,) = [name for name, call in root.module.modules.items() if call["source"] == "../modules/workspace"]
    workspace = root.child(name)
    definition = workspace.value(workspace.module.resources["databricks_cluster_policy.etl_restricted"]["definition"])
    return dict(json.loads(definition))


def cluster_policy_violations(policy: Mapping[str, Any], cluster: Mapping[str, Any]) -> list[str]:
    """What a job cluster sets that the policy does not allow; what it leaves out, the policy fills in."""
    flat = dict(_flatten(cluster))
    problems: list[str] = []
    for attribute, rule in policy.items():
        if attribute not in flat:
            continue
        value = flat[attribute]
        if rule["type"] == "fixed" and value != rule["value"]:
            problems.append(f"{attribute} is {value!r}, which the policy fixes to {rule['value']!r}")
        elif rule["type"] == "range" and not rule.get("minValue", value) <= value <= rule.get("maxValue", value):
            problems.append(f"{attribute} is {value!r}, outside {rule.get('minValue')} to {rule.get('maxValue')}")
        elif rule["type"] == "allowlist" and value not in rule["values"]:
            problems.append(f"{attribute} is {value!r}, not one of {rule['values']}")
        elif rule["type"] not in ("fixed", "range", "allowlist", "unlimited"):
            problems.append(f"{attribute}: the static check does not know rules of type '{rule['type']}'")
    return problems


def _flatten(value: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """A cluster's attributes as a policy names them: nested ones joined by dots (custom_tags.ENVM)."""
    for key, item in value.items():
        if isinstance(item, Mapping):
            yield from _flatten(item, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}", item


def _leaves(value: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _leaves(item, (*path, str(key)))
    elif isinstance(value, list):
        for position, item in enumerate(value):
            yield from _leaves(item, (*path, f"[{position}]"))
    else:
        yield path, value


def _key(path: tuple[str, ...]) -> str:
    """The name a leaf is set under: its last key that is not a list position."""
    return next((part for part in reversed(path) if not part.startswith("[")), "")


def _repeats(value: Any, key: str, held: Any, held_key: str) -> bool:
    if isinstance(value, str):
        return value != "" and value == held
    if isinstance(value, bool):
        return key == held_key and held is value
    if not isinstance(value, int | float):
        return False
    if isinstance(held, str):
        return len(str(value)) >= 6 and re.search(rf"(?<!\d){value}(?!\d)", held) is not None
    return key == held_key and not isinstance(held, bool) and value == held


def repeated_config_values(tfvars: Path, configs: Mapping[str, Any]) -> list[str]:
    """What a variables file sets that config already holds (configs: file name -> parsed YAML, searched
    in their order): Terraform must read it from config instead (infra/README.md). A value is config's
    when config has the same string; a number or a bool, the same value under a key of the same name
    (so soft_delete_days = 7 is no repeat of retention_days: 7); a number of six or more digits, when
    a config string has it (the workspace id in the workspace URL)."""
    held = [
        (file, ".".join(path).replace(".[", "["), _key(path), value)
        for file, document in configs.items()
        for path, value in _leaves(document)
    ]
    problems: list[str] = []
    for path, value in _leaves(parse(tfvars)):
        key = _key(path)
        match = next((item for item in held if _repeats(value, key, item[3], item[2])), None)
        if match is not None:
            name = ".".join(path).replace(".[", "[")
            problems.append(f"{tfvars.name}: {name} = {value!r} repeats {match[0]}'s {match[1]}")
    return problems


STORAGE_ACCOUNT_NAME = re.compile(r"^[a-z0-9]{3,24}$")
KEY_VAULT_NAME = re.compile(r"^(?=.{3,24}$)[A-Za-z](-?[A-Za-z0-9])*$")
RESOURCE_GROUP_NAME = re.compile(r"^[\w.()-]{0,89}[\w()-]$")
