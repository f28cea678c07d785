/* The common edge of a phase, compiled: ``with meter.phase(name):`` around every inference.
 *
 * wattsup.meter.meter._Phase has the same edges in Python; this base class does the common case of each
 * edge without a Python frame: the phase entered under the same parent as last time, the meter not
 * syncing at phase edges. An edge is then a read of the clock, an append to the node's array of starts
 * or ends, and a move of the meter's innermost open node (``meter._top``). Anything else (the first use of
 * a phase, another parent, syncs, misuse) calls the Python class's ``_enter``/``_exit``, which binds the
 * fields below for the next time.
 *
 * The clock is ``time.monotonic`` as the meter's module sees it now (``use_globals`` hands over its
 * globals; tests put fake clocks there); where it is the interpreter's own, on Linux, it is read here
 * directly (clock_gettime(CLOCK_MONOTONIC), the value time.monotonic() returns, converted the same way).
 *
 * Limited API (abi3, Python >= 3.11): one build serves every later interpreter.
 */
#define Py_LIMITED_API 0x030B0000
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#ifdef __linux__
#include <stdint.h>
#include <time.h>
#endif

#ifndef Py_T_OBJECT_EX
#define Py_T_OBJECT_EX T_OBJECT_EX
#endif

typedef struct {
    PyObject_HEAD
    PyObject *meter;  /* the Meter this phase belongs to */
    PyObject *parent; /* the node the phase was last entered under: the fast path's condition */
    PyObject *node;   /* the phase's node under that parent */
    PyObject *start;  /* node.starts.append */
    PyObject *end;    /* node.ends.append */
} Edges;

static PyObject *time_module;    /* the time module */
static PyObject *time_dict;      /* its namespace (borrowed from the module, which is kept) */
static PyObject *clock_globals;  /* the globals whose "time" edges read (the meter module's) */
static PyObject *s_time;
static PyObject *monotonic_orig; /* time.monotonic, the interpreter's own; NULL where it was replaced */
static PyObject *s_monotonic, *s_top, *s_enter, *s_exit;

static PyObject *
now(void)
{
    /* borrowed references throughout: dictionary lookups of interned keys, no attribute machinery */
    PyObject *owner = time_module;
    if (clock_globals != NULL) {
        owner = PyDict_GetItemWithError(clock_globals, s_time);
        if (owner == NULL) {
            if (!PyErr_Occurred()) {
                PyErr_SetString(PyExc_NameError, "the meter's module has no 'time'");
            }
            return NULL;
        }
    }
#ifdef __linux__
    if (owner == time_module && monotonic_orig != NULL) {
        PyObject *f = PyDict_GetItemWithError(time_dict, s_monotonic);
        if (f == monotonic_orig) {
            struct timespec ts;
            if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) {
                return PyErr_SetFromErrno(PyExc_OSError);
            }
            int64_t ns = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
            /* as CPython's _PyTime_AsSecondsDouble: whole seconds exactly, else ns / 1e9 */
            double d = (ns % 1000000000 == 0) ? (double)(ns / 1000000000) : (double)ns / 1e9;
            return PyFloat_FromDouble(d);
        }
        if (f == NULL && PyErr_Occurred()) {
            return NULL;
        }
    }
#endif
    PyObject *f = PyObject_GetAttr(owner, s_monotonic);
    if (f == NULL) {
        return NULL;
    }
    PyObject *t = PyObject_CallObject(f, NULL);
    Py_DECREF(f);
    return t;
}

/* Appends t with ``append`` (a bound array.append), then sets meter._top = top. Steals t. */
static PyObject *
record(PyObject *append, PyObject *t, PyObject *meter, PyObject *top)
{
    PyObject *r = PyObject_CallFunctionObjArgs(append, t, NULL);
    Py_DECREF(t);
    if (r == NULL) {
        return NULL;
    }
    Py_DECREF(r);
    if (PyObject_SetAttr(meter, s_top, top) < 0) {
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *
Edges_enter(Edges *self, PyObject *Py_UNUSED(ignored))
{
    PyObject *m = self->meter;
    if (m == NULL || self->parent == NULL || self->node == NULL || self->start == NULL) {
        PyErr_SetString(PyExc_AttributeError, "phase edges used before the phase was initialised");
        return NULL;
    }
    PyObject *top = PyObject_GetAttr(m, s_top);
    if (top == NULL) {
        return NULL;
    }
    int fast = top == self->parent;
    Py_DECREF(top);
    if (fast) {
        PyObject *t = now();
        if (t == NULL) {
            return NULL;
        }
        return record(self->start, t, m, self->node);
    }
    return PyObject_CallMethodObjArgs((PyObject *)self, s_enter, m, NULL);
}

static PyObject *
Edges_exit(Edges *self, PyObject *args)
{
    (void)args; /* the exception, if any, goes on: the edge is recorded either way */
    PyObject *t = now();
    if (t == NULL) {
        return NULL;
    }
    PyObject *m = self->meter;
    if (m == NULL || self->parent == NULL || self->node == NULL || self->end == NULL) {
        Py_DECREF(t);
        PyErr_SetString(PyExc_AttributeError, "phase edges used before the phase was initialised");
        return NULL;
    }
    PyObject *top = PyObject_GetAttr(m, s_top);
    if (top == NULL) {
        Py_DECREF(t);
        return NULL;
    }
    int fast = top == self->node;
    Py_DECREF(top);
    if (fast) {
        return record(self->end, t, m, self->parent);
    }
    PyObject *r = PyObject_CallMethodObjArgs((PyObject *)self, s_exit, m, t, NULL);
    Py_DECREF(t);
    if (r == NULL) {
        return NULL;
    }
    Py_DECREF(r);
    Py_RETURN_NONE;
}

static int
Edges_traverse(Edges *self, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE((PyObject *)self));
    Py_VISIT(self->meter);
    Py_VISIT(self->parent);
    Py_VISIT(self->node);
    Py_VISIT(self->start);
    Py_VISIT(self->end);
    return 0;
}

static int
Edges_clear(Edges *self)
{
    Py_CLEAR(self->meter);
    Py_CLEAR(self->parent);
    Py_CLEAR(self->node);
    Py_CLEAR(self->start);
    Py_CLEAR(self->end);
    return 0;
}

static void
Edges_dealloc(Edges *self)
{
    PyTypeObject *tp = Py_TYPE((PyObject *)self);
    PyObject_GC_UnTrack(self);
    Edges_clear(self);
    freefunc free_ = (freefunc)PyType_GetSlot(tp, Py_tp_free);
    free_(self);
    Py_DECREF(tp);
}

static PyMethodDef Edges_methods[] = {
    {"__enter__", (PyCFunction)Edges_enter, METH_NOARGS, "Enter the phase (the common case here)."},
    {"__exit__", (PyCFunction)Edges_exit, METH_VARARGS, "Leave the phase (the common case here)."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Edges_members[] = {
    {"meter", Py_T_OBJECT_EX, offsetof(Edges, meter), 0, "The meter this phase belongs to."},
    {"_parent", Py_T_OBJECT_EX, offsetof(Edges, parent), 0, "The node it was last entered under."},
    {"_node", Py_T_OBJECT_EX, offsetof(Edges, node), 0, "Its node under that parent."},
    {"_start", Py_T_OBJECT_EX, offsetof(Edges, start), 0, "The node's starts.append."},
    {"_end", Py_T_OBJECT_EX, offsetof(Edges, end), 0, "The node's ends.append."},
    {NULL, 0, 0, 0, NULL},
};

static PyType_Slot Edges_slots[] = {
    {Py_tp_doc, "The compiled edges of a phase: a base class of wattsup.meter.meter._Phase."},
    {Py_tp_methods, Edges_methods},
    {Py_tp_members, Edges_members},
    {Py_tp_traverse, Edges_traverse},
    {Py_tp_clear, Edges_clear},
    {Py_tp_dealloc, Edges_dealloc},
    {Py_tp_new, PyType_GenericNew},
    {0, NULL},
};

static PyType_Spec Edges_spec = {
    "wattsup.meter._edges.Edges",
    sizeof(Edges),
    0,
    Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    Edges_slots,
};

static PyObject *
use_globals(PyObject *Py_UNUSED(mod), PyObject *globals)
{
    if (!PyDict_Check(globals)) {
        PyErr_SetString(PyExc_TypeError, "use_globals() takes a module's globals (a dict)");
        return NULL;
    }
    PyObject *old = clock_globals;
    Py_INCREF(globals);
    clock_globals = globals;
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

static PyMethodDef module_methods[] = {
    {"use_globals", use_globals, METH_O,
     "Edges read the clock as time.monotonic in these globals (the meter module's)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef edges_module = {
    PyModuleDef_HEAD_INIT,
    "wattsup.meter._edges",
    "Compiled phase edges (see wattsup.meter.meter._Phase).",
    -1,
    module_methods,
    NULL,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__edges(void)
{
    s_monotonic = PyUnicode_InternFromString("monotonic");
    s_top = PyUnicode_InternFromString("_top");
    s_time = PyUnicode_InternFromString("time");
    s_enter = PyUnicode_InternFromString("_enter");
    s_exit = PyUnicode_InternFromString("_exit");
    if (s_monotonic == NULL || s_top == NULL || s_enter == NULL || s_exit == NULL || s_time == NULL) {
        return NULL;
    }
    time_module = PyImport_ImportModule("time");
    if (time_module == NULL) {
        return NULL;
    }
    time_dict = PyModule_GetDict(time_module);
    /* the interpreter's own clock: a builtin bound to the time module (not a fake put there already) */
    PyObject *f = PyObject_GetAttr(time_module, s_monotonic);
    if (f == NULL) {
        return NULL;
    }
    PyObject *owner = PyObject_GetAttrString(f, "__self__");
    if (owner == time_module) {
        monotonic_orig = f;
    }
    else {
        PyErr_Clear();
        Py_DECREF(f);
    }
    Py_XDECREF(owner);
    PyObject *mod = PyModule_Create(&edges_module);
    if (mod == NULL) {
        return NULL;
    }
    PyObject *tp = PyType_FromSpec(&Edges_spec);
    if (tp == NULL || PyModule_AddObject(mod, "Edges", tp) < 0) {
        Py_XDECREF(tp);
        Py_DECREF(mod);
        return NULL;
    }
    return mod;
}
