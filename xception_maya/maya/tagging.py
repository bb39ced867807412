"""Scene-wide commands: ``xceptionTag``, ``xceptionSimilar``, ``xceptionLabel``, ``xceptionLearn``.

Tags are written to attributes of the file nodes, all named ``xception...`` so they never
collide with the user's own, and are undone with the command. The network runs only for
textures whose file changed since they were last tagged with the same head. Tag sets are
object sets changed through the command's MDGModifier (node.message -> set.dnSetMembers[i],
how Maya records a DG node's membership), so one undo reverts exactly what a run did.

With a library index (Settings, else ``$XCEPTION_MAYA_INDEX``: ``settings.library_path``)
textures already in it take their features from it (no network run), new ones are written
back after the run, and ``xceptionSimilar -library`` searches the whole library. Index writes
happen here, in commands on the main thread, never in the node's compute(); undo leaves them
(features of a file are a cache, not part of the scene).

``xceptionTag -model NAME`` tags with a model imported with ``xception-maya import``; the
library index is not used for it (it holds Xception features).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import maya.api.OpenMaya as om
import numpy as np
from maya import cmds, mel

from .. import images, learn, similarity, texture_paths
from ..classifier import Classifier, Prediction
from ..errors import XceptionMayaError
from ..imported import ImportedClassifier
from ..library import Library, LibraryError, Model, model_for, precision_flag
from ..names import validate_name
from ..text import shown
from . import classifiers, settings
from .classifiers import AnyClassifier, classifier_for
from .commands import MODEL, check_top_k
from .framework import Args, CommandError, Flag, UndoableCommand, depend_node, node_type, plug

TAGS = "xceptionTags"  # string array, best first
SCORES = "xceptionScores"  # double array, one per tag
TOP_TAG = "xceptionTopTag"
TOP_SCORE = "xceptionTopScore"
CONFIDENCE = "xceptionConfidence"  # in [0, 1]: under 0.5 the texture fits no class (unknown)
TAGGED_WITH = "xceptionTaggedWith"  # what was classified: file key + head + model
USER_TAG = "xceptionUserTag"  # the tag a user gave by hand, to learn from
SET_PREFIX = "xceptionTag_"
SET_MEMBERS = "dnSetMembers"  # where an object set lists its DG members
CHUNK = 16  # textures per progress step: large enough to batch, small enough to cancel


@dataclass
class Texture:
    node: str
    path: Path | None = None
    color_space: str | None = None
    error: str | None = None


@dataclass
class Outcome:
    tagged: list[str] = field(default_factory=list)
    up_to_date: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    cancelled: bool = False


def file_textures(names: list[str] | None = None) -> list[Texture]:
    """File nodes (all in the scene, or those named) with the file each one shows now."""
    nodes = cmds.ls(names, type="file") if names else cmds.ls(type="file")
    found = []
    for node in nodes or []:
        pattern = cmds.getAttr(f"{node}.computedFileTextureNamePattern") or cmds.getAttr(
            f"{node}.fileTextureName"
        )
        texture = Texture(node, color_space=cmds.getAttr(f"{node}.colorSpace") or None)
        if not pattern:
            texture.error = "no file set"
        else:
            try:
                frame = float(cmds.getAttr(f"{node}.frameExtension"))
                texture.path = texture_paths.resolve(pattern, frame)
            except XceptionMayaError as exc:
                texture.error = str(exc)
        found.append(texture)
    return found


def tagged_with(clf: AnyClassifier, texture: Texture) -> str:
    """What a tag depends on: the file's content key, the head and the backbone, or the
    imported model (its file's sha256) and its input."""
    key = images.content_key(texture.path) if texture.path else ""
    if isinstance(clf, ImportedClassifier):
        return f"{key}|model:{clf.name}|{clf.entry.sha256}|{clf.preprocessing.key}"
    head = clf.head.name if clf.head else "none"
    return f"{key}|{head}|{clf.manifest.backbone.sha256[:16]}|{clf.size}|{clf.resize}"


def open_library(create: bool) -> Library | None:
    """The library index of the settings, or None when none is set. Raises LibraryError."""
    path = settings.library_path()
    return None if path is None else Library.open(path, create=create)


def library_or_warn(command: str) -> Library | None:
    """The library for a command that works without it: a broken index is one warning."""
    try:
        return open_library(create=True)
    except LibraryError as exc:
        om.MGlobal.displayWarning(f"{command}: library index not used: {exc}")
        return None


def write_back(
    library: Library, command: str, found: list[tuple[Path, Model, np.ndarray]], clf: Classifier
) -> None:
    """Record features computed by a command in the index; a failure (a read-only shared
    index, a file changed meanwhile) is one warning and loses nothing else."""
    failed: list[str] = []
    for path, model, features in found:
        try:
            library.add_features(path, model, features, head=clf.head)
        except LibraryError as exc:
            failed.append(str(exc))
    if failed:
        om.MGlobal.displayWarning(
            f"{command}: {len(failed)} textures not written to the library index "
            f"{library.path}: {failed[0]}"
        )


class Progress:
    """Maya's main progress bar with cancel (Esc), when there is a UI; nothing in batch."""

    def __init__(self, total: int, status: str) -> None:
        self.bar = ""
        if om.MGlobal.mayaState() == om.MGlobal.kInteractive and total > 0:
            self.bar = mel.eval("$tmp = $gMainProgressBar")  # type: ignore[no-untyped-call]  # the stubs leave mel.eval unannotated
            cmds.progressBar(
                self.bar, edit=True, beginProgress=True, isInterruptable=True,
                status=status, maxValue=total,
            )  # fmt: skip

    def step(self, amount: int) -> bool:
        """Advance; False when the user asked to cancel."""
        if not self.bar:
            return True
        cmds.progressBar(self.bar, edit=True, step=amount)
        return not cmds.progressBar(self.bar, query=True, isCancelled=True)

    def end(self) -> None:
        if self.bar:
            cmds.progressBar(self.bar, edit=True, endProgress=True)


def _attribute(node: str, long: str, kind: str, modifier: om.MDGModifier) -> None:
    """Queue adding one of our attributes to a node that lacks it."""
    if cmds.attributeQuery(long, node=node, exists=True):
        return
    typed, numeric = om.MFnTypedAttribute(), om.MFnNumericAttribute()
    if kind == "strings":
        attr = typed.create(long, long, om.MFnData.kStringArray)
    elif kind == "doubles":
        attr = typed.create(long, long, om.MFnData.kDoubleArray)
    elif kind == "string":
        attr = typed.create(long, long, om.MFnData.kString)
    else:
        attr = numeric.create(long, long, om.MFnNumericData.kDouble, 0.0)
    modifier.addAttribute(depend_node(node), attr)


def set_name(tag: str) -> str:
    return SET_PREFIX + (re.sub(r"\W+", "_", tag).strip("_") or "tag")


SELECTION = Flag("sl", "selection", bool, "only the selected file nodes")
TAG_HEAD = Flag("hd", "head", str, "head name or file", shown="Settings")
TAG_TOP_K = Flag("tk", "topK", int, "tags per texture", shown="Settings")
THRESHOLD = Flag(
    "th", "threshold", float, "tags scoring below this are not written", shown="Settings"
)
SETS = Flag(
    "st", "sets", bool, "also put each texture in the set of its top tag (xceptionTag_<tag>)"
)
FORCE = Flag("f", "force", bool, "classify again even the textures already tagged")


class TagCommand(UndoableCommand):
    NAME = "xceptionTag"
    USAGE = "[flags] [fileNode ...]"
    ABOUT = """
Classifies every file texture of the scene (or those named, or with -selection the
selected ones) and writes its tags to attributes of the file node: xceptionTags,
xceptionScores, xceptionTopTag ("unknown" when it fits none of the head's classes),
xceptionTopScore, xceptionConfidence (under 0.5: unknown). A second run classifies only
textures whose file changed. With a library index (Settings), textures in it are not run
through the network, and the others are added to it. Unreadable textures are listed at the
end. Esc cancels (tags written so far are kept, and undone with the command). With -sets a
texture leaves its old tag set. -model NAME tags with an imported model instead of
Xception and the head (the library index is not used then). Returns the tagged file nodes."""
    FLAGS = (SELECTION, TAG_HEAD, MODEL, TAG_TOP_K, THRESHOLD, SETS, FORCE)
    SELECTION_DEFAULT = False

    def build(self, args: Args) -> list[str]:
        prefs = settings.load()
        model = args.get(MODEL).strip()
        # With a model the Settings' head does not apply; a -head given with one is refused.
        head = args.get(TAG_HEAD, "" if model else prefs.head)
        top_k = check_top_k(args.get(TAG_TOP_K, prefs.top_k))
        threshold = args.get(THRESHOLD, prefs.threshold)
        named = args.named() or (args.objects() if args.get(SELECTION) else None)
        textures = file_textures(named)
        if not textures:
            where = "selected" if named is not None else "in the scene"
            raise CommandError(f"no file textures {where}")
        clf = classifier_for(head, prefs.device, model=model)
        library = library_or_warn(self.NAME) if isinstance(clf, Classifier) else None
        try:
            outcome = self.tag(clf, textures, top_k, threshold, args.get(FORCE), library)
        finally:
            if library is not None:
                library.close()
        if args.get(SETS):
            self.queue_sets(outcome.tagged)
        report(outcome, len(textures))
        return outcome.tagged

    def tag(
        self,
        clf: AnyClassifier,
        textures: list[Texture],
        top_k: int,
        threshold: float,
        force: bool,
        library: Library | None = None,
    ) -> Outcome:
        outcome = Outcome()
        todo: list[tuple[Texture, str]] = []
        for texture in textures:
            if texture.error:
                outcome.failed.append((texture.node, texture.error))
                continue
            try:
                stamp = tagged_with(clf, texture)
            except XceptionMayaError as exc:
                outcome.failed.append((texture.node, str(exc)))
                continue
            if not force and _stored(texture.node, TAGGED_WITH) == stamp:
                outcome.up_to_date.append(texture.node)
            else:
                todo.append((texture, stamp))
        progress = Progress(len(todo), f"xceptionTag: classifying {len(todo)} textures")
        new: list[tuple[Path, Model, np.ndarray]] = []  # for the library, after the run
        try:
            for start in range(0, len(todo), CHUNK):
                chunk = todo[start : start + CHUNK]
                results = self.predict(clf, [t for t, _ in chunk], top_k, library, new)
                for (texture, stamp), result in zip(chunk, results, strict=True):
                    if result.error:
                        outcome.failed.append((texture.node, result.error))
                        continue
                    keep = [i for i, s in enumerate(result.scores) if s >= threshold]
                    tags = [result.labels[i] for i in keep]
                    scores = [result.scores[i] for i in keep]
                    # "unknown" (nothing the head knows fits) is the top tag, and its set;
                    # else the best tag over the threshold (the tags are a prefix of labels).
                    top = (result.shown_label or "") if result.unknown or tags else ""
                    # A head that cannot judge says known (unknown.is_known): confidence 1.
                    confidence = 1.0 if result.confidence is None else result.confidence
                    self.queue_tags(texture.node, tags, scores, stamp, top, confidence)
                    outcome.tagged.append(texture.node)
                if not progress.step(len(chunk)):
                    outcome.cancelled = True
                    break
        finally:
            progress.end()
            if library is not None and new and isinstance(clf, Classifier):
                write_back(library, self.NAME, new, clf)
        return outcome

    @staticmethod
    def predict(
        clf: AnyClassifier,
        textures: list[Texture],
        top_k: int,
        library: Library | None,
        new: list[tuple[Path, Model, np.ndarray]],
    ) -> list[Prediction]:
        """Each texture's prediction: from its features in the library when they are there,
        else from the network (those features are added to ``new``). An imported model
        never uses the library."""
        out: list[Prediction | None] = [None] * len(textures)
        xception = clf if isinstance(clf, Classifier) else None
        models = [
            model_for(xception, t.path, t.color_space) if library and xception else None
            for t in textures
        ]
        for i, (texture, model) in enumerate(zip(textures, models, strict=True)):
            if xception is None or library is None:
                break
            if model is not None and texture.path is not None:
                stored = library.features_for(texture.path, model)
                if stored is not None:
                    out[i] = xception.predict(stored, top_k, image=str(texture.path))
        rest = [i for i, p in enumerate(out) if p is None]
        paths = [textures[i].path for i in rest]
        spaces = [textures[i].color_space for i in rest]
        computed = clf.classify([p for p in paths if p is not None], top_k, spaces)
        for i, result in zip(rest, computed, strict=True):
            out[i] = result
            model, path = models[i], textures[i].path
            if model is not None and path is not None and result.features is not None:
                new.append((path, model, result.features))
        return [p for p in out if p is not None]

    def queue_tags(
        self,
        node: str,
        tags: list[str],
        scores: list[float],
        stamp: str,
        top: str,
        confidence: float,
    ) -> None:
        for long, kind in (
            (TAGS, "strings"), (SCORES, "doubles"), (TOP_TAG, "string"),
            (TOP_SCORE, "double"), (CONFIDENCE, "double"), (TAGGED_WITH, "string"),
        ):  # fmt: skip
            _attribute(node, long, kind, self.modifier)
        self.modifier.doIt()  # attributes first: their plugs must exist to be set
        m = self.modifier
        m.newPlugValue(plug(node, TAGS), om.MFnStringArrayData().create(tags))
        m.newPlugValue(plug(node, SCORES), om.MFnDoubleArrayData().create(om.MDoubleArray(scores)))
        m.newPlugValueString(plug(node, TOP_TAG), top)
        m.newPlugValueDouble(plug(node, TOP_SCORE), scores[0] if scores else 0.0)
        m.newPlugValueDouble(plug(node, CONFIDENCE), confidence)
        m.newPlugValueString(plug(node, TAGGED_WITH), stamp)

    def queue_sets(self, nodes: list[str]) -> None:
        """Each texture leaves the tag sets it is in and joins the set of its top tag,
        created when missing."""
        self.modifier.doIt()  # the tags are read back below
        made: dict[str, om.MObject] = {}
        for node in nodes:
            message = plug(node, "message")
            top = plug(node, TOP_TAG).asString()
            wanted = set_name(top) if top else ""
            already = False
            for member in message.destinations():
                owner = om.MFnDependencyNode(member.node())
                if owner.typeName != "objectSet" or not owner.name().startswith(SET_PREFIX):
                    continue
                if owner.name() == wanted:
                    already = True
                else:
                    self.modifier.disconnect(message, member)
            if wanted and not already:
                target = made.get(wanted) or self._tag_set(wanted)
                made[wanted] = target
                members = om.MFnDependencyNode(target).findPlug(SET_MEMBERS, False)
                used = members.getExistingArrayAttributeIndices()
                self.modifier.connect(
                    message, members.elementByLogicalIndex(max(used, default=-1) + 1)
                )
            self.modifier.doIt()  # the next texture sees this one's element

    def _tag_set(self, name: str) -> om.MObject:
        """The object set of that name, created (through the modifier) when there is none."""
        if cmds.objExists(name) and node_type(name) == "objectSet":
            return depend_node(name)
        created = self.modifier.createNode("objectSet")
        self.modifier.renameNode(created, name)
        self.modifier.doIt()
        return created


def _stored(node: str, attribute: str) -> str | None:
    if not cmds.attributeQuery(attribute, node=node, exists=True):
        return None
    value = cmds.getAttr(f"{node}.{attribute}")
    return None if value is None else str(value)


def report(outcome: Outcome, total: int) -> None:
    parts = [f"tagged {len(outcome.tagged)} of {total} textures"]
    if outcome.up_to_date:
        parts.append(f"{len(outcome.up_to_date)} already up to date")
    if outcome.cancelled:
        parts.append("cancelled")
    om.MGlobal.displayInfo("xceptionTag: " + ", ".join(parts))
    if outcome.failed:
        lines = "\n".join(f"  {node}: {reason}" for node, reason in outcome.failed)
        om.MGlobal.displayWarning(
            f"xceptionTag: {len(outcome.failed)} textures could not be classified:\n{lines}"
        )


COUNT = Flag("k", "count", int, "how many to select", 5)
LIBRARY = Flag(
    "lib", "library", bool, "search the whole library index (Settings), not only the scene"
)


class SimilarCommand(UndoableCommand):
    NAME = "xceptionSimilar"
    USAGE = "[flags] [fileNode]"
    ABOUT = """
Selects the file textures of the scene most similar to the given (or selected) one, by
cosine similarity of the Xception features. Returns name, similarity pairs, most similar
first (as strings: ["file4", "0.93", "file9", "0.88"]). With -library, searches every
texture of the library index set in Settings (or $XCEPTION_MAYA_INDEX) instead, selects
nothing, and returns file path, similarity pairs."""
    FLAGS = (COUNT, LIBRARY)

    def build(self, args: Args) -> list[str]:
        query = [n for n in args.objects() if node_type(n) == "file"]
        if len(query) != 1:
            raise CommandError("name or select exactly one file texture")
        k = args.get(COUNT)
        if k < 1:
            raise CommandError("-count must be at least 1")
        prefs = settings.load()
        # The tagging classifier, so features computed by xceptionTag are reused.
        clf = classifier_for(prefs.head, prefs.device)
        if args.get(LIBRARY):
            return self.in_library(clf, query[0], k)
        textures = file_textures()
        readable = [t for t in textures if t.path is not None]
        features = clf.features(
            [t.path for t in readable if t.path], [t.color_space for t in readable]
        )
        usable = [
            (t, f) for t, f in zip(readable, features, strict=True) if isinstance(f, np.ndarray)
        ]
        skipped = [t.node for t in textures if t.path is None] + [
            t.node for t, f in zip(readable, features, strict=True) if not isinstance(f, np.ndarray)
        ]
        names = [t.node for t, _ in usable]
        if query[0] not in names:
            raise CommandError(f"{query[0]}: its image cannot be read")
        matrix = np.stack([f for _, f in usable])
        index = names.index(query[0])
        best = similarity.most_similar(matrix[index], matrix, k, exclude=index)
        if skipped:
            om.MGlobal.displayWarning(
                f"xceptionSimilar: {len(skipped)} textures could not be read and were not "
                f"compared: {', '.join(skipped)}"
            )
        self.selection_after = om.MSelectionList()
        result = []
        for i, score in best:
            self.selection_after.add(names[i])
            result += [names[i], f"{score:.4f}"]
        return result

    def in_library(self, clf: Classifier, node: str, k: int) -> list[str]:
        """The library's files most like the texture of ``node``: [path, similarity, ...]."""
        (texture,) = file_textures([node])
        if texture.path is None:
            raise CommandError(f"{node}: {texture.error}")
        model = model_for(clf, texture.path, texture.color_space)
        try:
            library = open_library(create=False)
        except LibraryError as exc:
            raise CommandError(str(exc)) from None
        if library is None:
            raise CommandError(
                "no library index: name one in Settings (Library index) or set "
                "$XCEPTION_MAYA_INDEX, and fill it with `xception-maya index DIR`"
            )
        with library:
            vector = library.features_for(texture.path, model)
            if vector is None:
                (found,) = clf.features([texture.path], [texture.color_space])
                if not isinstance(found, np.ndarray):
                    raise CommandError(f"{node}: {found}")
                vector = found
                write_back(library, self.NAME, [(texture.path, model, vector)], clf)
            matches = library.similar(vector, k, model, exclude=[texture.path])
        if not matches:
            flag = precision_flag(clf.engine.precision)
            om.MGlobal.displayWarning(
                f"xceptionSimilar: the library index {library.path} has no other features for "
                f"this backbone, size and precision; fill it with `xception-maya index DIR{flag}`"
            )
        result: list[str] = []
        for match in matches:
            result += [match.path, f"{match.similarity:.4f}"]
        return result


TAG = Flag("tag", "tagName", str, "the tag", "")
CLEAR = Flag("cl", "clear", bool, "remove the tag instead")


class LabelCommand(UndoableCommand):
    NAME = "xceptionLabel"
    USAGE = "-tag NAME [fileNode ...]"
    ABOUT = """
Gives the named (or selected) file textures a tag of your own, in their xceptionUserTag
attribute, for xceptionLearn to learn from. -clear removes it."""
    FLAGS = (TAG, CLEAR)

    def build(self, args: Args) -> list[str]:
        nodes = [n for n in args.objects() if node_type(n) == "file"]
        if not nodes:
            raise CommandError("name or select file textures")
        tag = "" if args.get(CLEAR) else args.get(TAG).strip()
        if not tag and not args.get(CLEAR):
            raise CommandError("give a tag: xceptionLabel -tag wood")
        for node in nodes:
            _attribute(node, USER_TAG, "string", self.modifier)
        self.modifier.doIt()
        for node in nodes:
            self.modifier.newPlugValueString(plug(node, USER_TAG), tag)
        return nodes


HEAD_NAME = Flag("n", "name", str, "the head's name", "")


class LearnCommand(UndoableCommand):
    NAME = "xceptionLearn"
    USAGE = "-name NAME"
    ABOUT = """
Trains a head on the file textures you tagged with xceptionLabel (two tags at least) and
saves it in your Maya folder (xception-maya/heads/NAME.npz). Prints the held-out accuracy.
Set a classifier's head attribute (or the default head in Settings) to NAME to use it.
Returns the head file and the held-out accuracy (-1 when it cannot be measured)."""
    FLAGS = (HEAD_NAME,)
    OBJECTS = False
    UNDOABLE = False  # writes a file, changes nothing in the scene

    def build(self, args: Args) -> list[str]:
        name = args.get(HEAD_NAME).strip()
        if not name:
            raise CommandError("give the head a name: xceptionLearn -name materials")
        validate_name(name)  # the one rule: "none", "default" and the like are refused
        labelled = [
            t
            for t in file_textures()
            if _stored(t.node, USER_TAG) and str(_stored(t.node, USER_TAG)).strip()
        ]
        unreadable = [(t.node, t.error) for t in labelled if t.path is None]
        readable = [t for t in labelled if t.path is not None]
        clf = classifier_for("none", settings.load().device)
        features = clf.features(
            [t.path for t in readable if t.path], [t.color_space for t in readable]
        )
        rows, tags = [], []
        for texture, f in zip(readable, features, strict=True):
            if isinstance(f, np.ndarray):
                rows.append(f)
                tags.append(str(_stored(texture.node, USER_TAG)).strip())
            else:
                unreadable.append((texture.node, str(f)))
        if unreadable:
            om.MGlobal.displayWarning(
                "xceptionLearn: not learned from (unreadable): "
                + ", ".join(f"{n} ({why})" for n, why in unreadable)
            )
        if not rows:
            raise CommandError("no readable textures tagged with xceptionLabel")
        head = learn.train_head(
            np.stack(rows), tags, name=name, input_size=clf.size, resize=clf.resize
        )
        folder = classifiers.user_heads() or settings.user_heads_dir()
        path = head.save(folder / f"{name}.npz")
        accuracy = head.extra.get("holdout_accuracy")
        shown = "not measurable (a tag has one example)" if accuracy is None else f"{accuracy:.0%}"
        om.MGlobal.displayInfo(
            f"xceptionLearn: head {name!r} from {len(rows)} textures, "
            f"{len(set(tags))} tags, held-out accuracy {shown}: {path}"
        )
        return [str(path), f"{-1 if accuracy is None else accuracy:.4f}"]


FILE_PATH = Flag("p", "path", str, "the image file", "")
TEXTURE_LIST = "defaultTextureList1"  # where the Hypershade finds textures


def file_node_name(path: Path) -> str:
    """A legal node name from a file name: "oak bark.png" -> "oak_bark"."""
    stem = re.sub(r"\W+", "_", path.stem, flags=re.ASCII).strip("_") or "texture"
    return f"tex_{stem}" if stem[0].isdigit() else stem


class LibraryFileCommand(UndoableCommand):
    NAME = "xceptionLibraryFile"
    USAGE = "-path FILE"
    ABOUT = """
Creates a file texture node that reads FILE (a result of the Library window or of
xceptionSimilar -library), lists it with the scene's textures, selects it and returns its
name. Undo removes it."""
    FLAGS = (FILE_PATH,)
    OBJECTS = False

    def build(self, args: Args) -> list[str]:
        text = args.get(FILE_PATH).strip()
        if not text:
            raise CommandError("give the image: xceptionLibraryFile -path /textures/oak.png")
        path = Path(text).expanduser()
        if not path.is_file():
            raise CommandError(f"{shown(text)}: no such file")
        created = self.modifier.createNode("file")
        self.modifier.renameNode(created, file_node_name(path))
        self.modifier.doIt()  # names (and plugs) exist only once executed
        name = om.MFnDependencyNode(created).name()
        self.modifier.newPlugValueString(plug(name, "fileTextureName"), str(path))
        if cmds.objExists(TEXTURE_LIST) and node_type(TEXTURE_LIST) == "defaultTextureList":
            textures = plug(TEXTURE_LIST, "textures")
            used = textures.getExistingArrayAttributeIndices()
            self.modifier.connect(
                plug(name, "message"), textures.elementByLogicalIndex(max(used, default=-1) + 1)
            )
        self.selection_after = om.MSelectionList()
        self.selection_after.add(name)
        return [name]


TAGGING_COMMANDS: list[type[UndoableCommand]] = [
    TagCommand, SimilarCommand, LabelCommand, LearnCommand, LibraryFileCommand,
]  # fmt: skip
