"""Writes the expected strict schemas for crates/airlock-rules/tests/strict.rs (issue 17).

Run with the test venv's python (it has the real `openai` and `pydantic`):

    ~/.cache/airlock/venv/bin/python tests/strict/gen_expected.py

- pydantic/NAME.json: openai-python's `to_strict_json_schema` of the pydantic twin of each Rust
  type (`src/openai/lib/_pydantic.py`), or {"error": ...} where it raises.
- openai/NAME.json: openai-python's `_ensure_strict_json_schema` on raw/NAME.json (what schemars
  writes for the Rust type; the Rust test writes and checks those), or {"error": ...}.
"""

from __future__ import annotations

import copy
import datetime
import json
import pathlib
import sys
import uuid
from typing import Annotated, Any, Generic, Literal, Optional as Opt, TypeVar, Union

import openai
import pydantic
from openai.lib._pydantic import _ensure_strict_json_schema, to_strict_json_schema
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter
from pydantic.alias_generators import to_camel

HERE = pathlib.Path(__file__).resolve().parent

U32 = Annotated[int, Field(ge=0)]
U8 = Annotated[int, Field(ge=0, le=255)]


class Basic(BaseModel):
    name: str
    age: U32
    active: bool
    score: float


class Signed(BaseModel):
    a: int
    b: int


class Optional(BaseModel):
    nickname: Opt[str] = None
    rank: Opt[int] = None


class Vectors(BaseModel):
    tags: list[str]
    grid: list[list[int]]


class Inner(BaseModel):
    label: str
    weight: float


class Nested(BaseModel):
    inner: Inner
    list: list[Inner]


class RenameField(BaseModel):
    name: str = Field(alias="fullName")
    id: int


class RenameAllCamel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel)
    first_name: str
    last_name: str
    zip_code: str


class RenameAllKebab(BaseModel):
    first_name: str = Field(alias="first-name")
    home_town: str = Field(alias="home-town")


class RenameAllUpper(BaseModel):
    api_key_name: str = Field(alias="API_KEY_NAME")
    retries: int = Field(alias="RETRIES")


class SkipField(BaseModel):
    visible: str


class DefaultField(BaseModel):
    name: str
    count: int = 0


class DefaultStruct(BaseModel):
    level: int = 3
    label: str = "x"


class Flatten(BaseModel):
    id: str
    created_by: str
    version: int


class FlattenTwo(BaseModel):
    name: str
    created_by: str
    version: int
    lat: float
    lon: float


class OptionNested(BaseModel):
    inner: Opt[Inner] = None


class VecOfOption(BaseModel):
    values: list[Opt[str]]


class Boxed(BaseModel):
    inner: Inner


class Tree(BaseModel):
    value: int
    children: list[Tree]


class LinkedList(BaseModel):
    head: int
    tail: Opt[LinkedList] = None


class Ping(BaseModel):
    pong: Opt[Pong] = None


class Pong(BaseModel):
    pings: list[Ping]


Ping.model_rebuild()


class Mutual(BaseModel):
    ping: Ping


class UnitEnum(BaseModel):
    color: Literal["Red", "Green", "Blue"]


class UnitEnumRenamed(BaseModel):
    shade: Literal["light_blue", "dark_red"]


class UnitEnumVariantRename(BaseModel):
    level: Literal["lo", "hi"]


class CircleBody(BaseModel):
    r: float


class RectBody(BaseModel):
    w: float
    h: float


class CircleV(BaseModel):
    Circle: CircleBody


class RectV(BaseModel):
    Rect: RectBody


class ExternalTagged(BaseModel):
    shape: Union[CircleV, RectV]


class CountV(BaseModel):
    Count: int


class ExternalMixed(BaseModel):
    value: Union[Literal["Nothing"], CountV]


class Click(BaseModel):
    type: Literal["Click"]
    x: int
    y: int


class Key(BaseModel):
    type: Literal["Key"]
    code: str


class InternalTagged(BaseModel):
    event: Union[Click, Key]


class Dog(BaseModel):
    kind: Literal["Dog"]
    breed: str


class Cat(BaseModel):
    kind: Literal["Cat"]
    lives: int


class InternalTaggedNewtype(BaseModel):
    animal: Union[Dog, Cat]


class ActiveV(BaseModel):
    state: Literal["active"]


class InactiveV(BaseModel):
    state: Literal["inactive"]


class InternalTaggedUnit(BaseModel):
    status: Union[ActiveV, InactiveV]


class TextM(BaseModel):
    t: Literal["Text"]
    c: str


class NumM(BaseModel):
    t: Literal["Num"]
    c: int


class PairBody(BaseModel):
    a: str
    b: str


class PairM(BaseModel):
    t: Literal["Pair"]
    c: PairBody


class AdjacentTagged(BaseModel):
    msg: Union[TextM, NumM, PairM]


class Obj(BaseModel):
    flag: bool


class Untagged(BaseModel):
    value: Union[int, str, Obj]


class FormatDatetime(BaseModel):
    at: datetime.datetime
    day: datetime.date


class FormatUuid(BaseModel):
    id: uuid.UUID
    parent: Opt[uuid.UUID] = None


class FormatCustom(BaseModel):
    email: str = Field(json_schema_extra={"format": "email"})
    host: str = Field(json_schema_extra={"format": "hostname"})


class MapString(BaseModel):
    scores: dict[str, int]


class MapHolder(BaseModel):
    by_key: dict[str, Inner]


class MapNested(BaseModel):
    name: str
    inner: MapHolder


class FlattenMap(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: str


class RA(BaseModel):
    type: Literal["A"]
    a: int


class RB(BaseModel):
    type: Literal["B"]
    b: str


class SetField(BaseModel):
    tags: set[str]


class TupleField(BaseModel):
    pair: tuple[int, str]


class DocComments(BaseModel):
    origin: Inner = Field(description="Where the item was made.")
    count: int = Field(description="How many.")


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int


class Generic_(BaseModel):
    page: Page[Inner]


class DenyUnknown(BaseModel):
    model_config = ConfigDict(extra="forbid")
    only: str


class Bytes(BaseModel):
    data: list[U8]


def deep(levels: int) -> type[BaseModel]:
    model: type[BaseModel] = pydantic.create_model("L10", v=(int, ...))
    for i in range(9, 0, -1):
        model = pydantic.create_model(f"L{i}", n=(model, ...))
    return pydantic.create_model("DeepNesting", n=(model, ...))


class OptionDefault(BaseModel):
    note: Opt[str] = None
    limit: Opt[int] = None


class EnumInOption(BaseModel):
    color: Opt[Literal["Red", "Green", "Blue"]] = None


class ListOfEnums(BaseModel):
    events: list[Union[Click, Key]]


class Everything(BaseModel):
    id: uuid.UUID
    created_at: datetime.datetime = Field(alias="createdAt")
    tags: list[str]
    owner: Opt[Inner] = None
    shape: Union[CircleV, RectV]
    created_by: str
    version: int


class Strings(BaseModel):
    a: str
    b: str
    c: list[str]


class Floats(BaseModel):
    x: float
    y: float
    z: Opt[float] = None


class Empty(BaseModel):
    model_config = ConfigDict(extra="forbid")


class JsonValue(BaseModel):
    anything: Any


MODELS: dict[str, Any] = {
    "Basic": Basic,
    "Signed": Signed,
    "Optional": Optional,
    "Vectors": Vectors,
    "Nested": Nested,
    "RenameField": RenameField,
    "RenameAllCamel": RenameAllCamel,
    "RenameAllKebab": RenameAllKebab,
    "RenameAllUpper": RenameAllUpper,
    "SkipField": SkipField,
    "DefaultField": DefaultField,
    "DefaultStruct": DefaultStruct,
    "Flatten": Flatten,
    "FlattenTwo": FlattenTwo,
    "OptionNested": OptionNested,
    "VecOfOption": VecOfOption,
    "Boxed": Boxed,
    "Tree": Tree,
    "LinkedList": LinkedList,
    "Mutual": Mutual,
    "UnitEnum": UnitEnum,
    "UnitEnumRenamed": UnitEnumRenamed,
    "UnitEnumVariantRename": UnitEnumVariantRename,
    "ExternalTagged": ExternalTagged,
    "ExternalMixed": ExternalMixed,
    "InternalTagged": InternalTagged,
    "InternalTaggedNewtype": InternalTaggedNewtype,
    "InternalTaggedUnit": InternalTaggedUnit,
    "AdjacentTagged": AdjacentTagged,
    "Untagged": Untagged,
    "FormatDatetime": FormatDatetime,
    "FormatUuid": FormatUuid,
    "FormatCustom": FormatCustom,
    "MapString": MapString,
    "MapNested": MapNested,
    "FlattenMap": FlattenMap,
    "RootVec": TypeAdapter(list[int]),
    "RootEnum": TypeAdapter(Union[RA, RB]),
    "SetField": SetField,
    "TupleField": TupleField,
    "DocComments": DocComments,
    "Generic": Generic_,
    "DenyUnknown": DenyUnknown,
    "Bytes": Bytes,
    "DeepNesting": deep(11),
    "OptionDefault": OptionDefault,
    "EnumInOption": EnumInOption,
    "ListOfEnums": ListOfEnums,
    "Everything": Everything,
    "Strings": Strings,
    "Floats": Floats,
    "Empty": Empty,
    "JsonValue": JsonValue,
}


def write(kind: str, name: str, value: Any) -> None:
    out = HERE / kind / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def main() -> int:
    print(f"openai {openai.__version__}, pydantic {pydantic.VERSION}")
    for name, model in MODELS.items():
        try:
            value: Any = to_strict_json_schema(model)
        except Exception as e:  # noqa: BLE001 - the error is the expected result
            value = {"error": f"{type(e).__name__}: {e}"}
        write("pydantic", name, value)
    raws = sorted((HERE / "raw").glob("*.json"))
    for path in raws:
        raw = json.loads(path.read_text())
        schema = copy.deepcopy(raw)
        try:
            value = _ensure_strict_json_schema(schema, path=(), root=schema)
        except Exception as e:  # noqa: BLE001
            value = {"error": f"{type(e).__name__}: {e}"}
        write("openai", path.stem, value)
    missing = set(MODELS) ^ {p.stem for p in raws}
    if missing:
        print(f"models and raw schemas differ: {sorted(missing)}", file=sys.stderr)
        return 1
    print(f"{len(MODELS)} pydantic models, {len(raws)} raw schemas")
    return 0


if __name__ == "__main__":
    sys.exit(main())
