# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False, overflowcheck=False, infer_types=False
# distutils: language = c++
# distutils: extra_compile_args = -ffp-contract=off
"""The compiled A&E department: a line-for-line translation of
`flowsim/_core/department_reference.py` (read that for the semantics).

The calendar is a binary heap of C structs on (time, seq); each site's queues are C++
deques; an attendance's state is a C struct in a vector indexed by its row. No Python
object is touched per event, and every floating-point operation is the twin's, in the
same order, so the two agree bit for bit.
"""

from libc.math cimport INFINITY, fmod, isfinite
from libc.stdint cimport int64_t
from libcpp cimport bool as cbool
from libcpp.deque cimport deque
from libcpp.vector cimport vector
from cython.operator cimport dereference as deref, preincrement as inc

import numpy as np

from flowsim._core.department_reference import (
    ARRIVE,
    COHORT,
    DECIDE,
    HOUR,
    REQUEST,
    SEEN,
    checked_attendances,
    checked_columns,
    checked_reinforcement,
    checked_setup,
)

cdef int K_ARRIVE = ARRIVE
cdef int K_COHORT = COHORT
cdef int K_REQUEST = REQUEST
cdef int K_SEEN = SEEN
cdef int K_DECIDE = DECIDE
cdef int K_HOUR = HOUR


cdef struct Event:
    double time
    int64_t seq
    int kind
    int64_t row


cdef struct Attendance:
    int site
    double triage
    double assess
    double treat
    cbool admit
    cbool cubicle      # holds a majors cubicle
    cbool crew         # an ambulance crew still waiting to hand over
    cbool present      # in the department (attended, not yet left)
    cbool decided      # decided for admission: may leave


cdef inline bint before(const Event& x, const Event& y) noexcept nogil:
    return x.time < y.time or (x.time == y.time and x.seq < y.seq)


cdef inline void heap_push(vector[Event]* heap, Event e) noexcept nogil:
    heap.push_back(e)
    cdef size_t i = heap.size() - 1
    cdef size_t parent
    while i > 0:
        parent = (i - 1) >> 1
        if not before(e, deref(heap)[parent]):
            break
        deref(heap)[i] = deref(heap)[parent]
        i = parent
    deref(heap)[i] = e


cdef inline Event heap_pop(vector[Event]* heap) noexcept nogil:
    cdef Event top = deref(heap)[0]
    cdef Event last = heap.back()
    heap.pop_back()
    cdef size_t n = heap.size()
    cdef size_t i = 0
    cdef size_t child
    if n:
        while True:
            child = 2 * i + 1
            if child >= n:
                break
            if child + 1 < n and before(deref(heap)[child + 1], deref(heap)[child]):
                child += 1
            if not before(deref(heap)[child], last):
                break
            deref(heap)[i] = deref(heap)[child]
            i = child
        deref(heap)[i] = last
    return top


cdef class Department:
    """Clinicians (by hour) and majors cubicles (a fixed number, or no limit) at each site."""

    cdef int n_sites
    cdef vector[int] _rota          # site * 24 + hour
    cdef vector[int] _cubicles
    cdef cbool limited
    cdef double _cohort_after_h
    cdef vector[int] _busy
    cdef vector[deque[int64_t]] _waiting
    cdef vector[int] _in_cubicles
    cdef vector[deque[int64_t]] _crews
    cdef double _now
    cdef vector[Event] _calendar
    cdef int64_t _seq
    cdef int64_t _events
    cdef int64_t _hour
    cdef vector[Attendance] _rows
    cdef int64_t _max_row
    cdef double[::1] _handover_h
    cdef double[::1] _decision_h
    cdef double[::1] _departure_h
    cdef object _arrays

    def __init__(self, clinicians_by_hour, cubicles, double cohort_after_h=INFINITY):
        rota, counts, self.limited, self._cohort_after_h = checked_setup(clinicians_by_hour, cubicles, cohort_after_h)
        n = len(rota)
        self.n_sites = n
        for hours in rota:
            for c in hours:
                self._rota.push_back(c)
        for c in counts:
            self._cubicles.push_back(c)
        self._busy.resize(n, 0)
        self._waiting.resize(n)
        self._in_cubicles.resize(n, 0)
        self._crews.resize(n)
        self._now = 0.0
        self._seq = 0
        self._events = 0
        self._hour = 0
        self._max_row = -1
        self._push(0.0, K_HOUR, -1)
        self.bind(np.empty(0), np.empty(0), np.empty(0))

    # -- what the model calls ----------------------------------------------------------
    def bind(self, handover_h, decision_h, departure_h):
        """The attendance log's columns the department writes its times into, by row."""
        columns = checked_columns((handover_h, decision_h, departure_h), self._max_row)
        self._arrays = columns
        self._handover_h = handover_h
        self._decision_h = decision_h
        self._departure_h = departure_h

    def attend(self, rows, site, ambulance, arrival_h, triage_h, assess_h, treat_h, admit):
        """Add attendances, in the order their arrivals are to be taken at equal times."""
        cdef Py_ssize_t n_bound = min(self._handover_h.shape[0], self._decision_h.shape[0], self._departure_h.shape[0])
        checked = checked_attendances(
            (rows, site, ambulance, arrival_h, triage_h, assess_h, treat_h, admit), self.n_sites, self._now, n_bound
        )
        cdef int64_t[::1] r = checked[0]
        cdef int64_t[::1] s = checked[1]
        cdef const unsigned char[::1] amb = checked[2].view(np.uint8)
        cdef double[::1] t = checked[3]
        cdef double[::1] tri = checked[4]
        cdef double[::1] ass = checked[5]
        cdef double[::1] tre = checked[6]
        cdef const unsigned char[::1] adm = checked[7].view(np.uint8)
        cdef Py_ssize_t n = r.shape[0]
        cdef Py_ssize_t i
        cdef int64_t row
        cdef Attendance* a
        for i in range(n):
            row = r[i]
            if row < <int64_t>self._rows.size() and self._rows[row].present:
                raise ValueError(f"row {row} is already in the department")
        if n:
            self._max_row = max(self._max_row, <int64_t>np.max(r))
        for i in range(n):
            row = r[i]
            if row >= <int64_t>self._rows.size():
                self._rows.resize(row + 1)
            a = &self._rows[row]
            a.site = <int>s[i]
            a.triage = tri[i]
            a.assess = ass[i]
            a.treat = tre[i]
            a.admit = adm[i] != 0
            a.cubicle = False
            a.crew = False
            a.present = True
            a.decided = False
            if amb[i] and self.limited:
                self._push(t[i], K_ARRIVE, row)
            else:
                if amb[i]:
                    self._handover_h[row] = t[i]
                self._push(t[i] + a.triage, K_REQUEST, row)

    def advance(self, double bound):
        """Take every event before `bound`, in order; stop at a decision to admit and
        return its row (`now` is then its time), or return -1 when none is left before."""
        return self._advance(bound)

    cdef int64_t _advance(self, double bound) noexcept:
        cdef Event e
        cdef Attendance* a
        cdef int s
        cdef double t
        while self._calendar.size() and self._calendar[0].time < bound:
            e = heap_pop(&self._calendar)
            t = e.time
            self._now = t
            self._events += 1
            if e.kind == K_DECIDE:
                if self._rows[e.row].admit:
                    self._rows[e.row].decided = True
                    self._decision_h[e.row] = t
                    return e.row
                self._decision_h[e.row] = t
                self._leave(e.row, t)
            elif e.kind == K_SEEN:
                s = self._rows[e.row].site
                self._busy[s] -= 1
                self._call_next(s, t)
            elif e.kind == K_REQUEST:
                s = self._rows[e.row].site
                if self._waiting[s].empty() and self._busy[s] < self._on_duty(s, t):
                    self._start(e.row, s, t)
                else:
                    self._waiting[s].push_back(e.row)
            elif e.kind == K_ARRIVE:
                a = &self._rows[e.row]
                s = a.site
                if self._crews[s].empty() and self._in_cubicles[s] < self._cubicles[s]:
                    self._hand_over(e.row, t, True)
                else:
                    a.crew = True
                    self._crews[s].push_back(e.row)
                    if isfinite(self._cohort_after_h):
                        self._push(t + self._cohort_after_h, K_COHORT, e.row)
            elif e.kind == K_COHORT:
                a = &self._rows[e.row]
                if a.present and a.crew:
                    self._remove_crew(a.site, e.row)
                    self._hand_over(e.row, t, False)
            else:  # HOUR
                for s in range(self.n_sites):
                    self._call_next(s, t)
                self._hour += 1
                self._push(<double>self._hour, K_HOUR, -1)
        return -1

    def leave(self, int64_t row, double t):
        """The patient leaves A&E at `t` (now): their cubicle, if any, goes to the next crew."""
        if row < 0 or row >= <int64_t>self._rows.size() or not self._rows[row].present or not self._rows[row].decided:
            raise ValueError(f"row {row} is not a patient decided for admission in the department")
        if not t >= self._now:
            raise ValueError(f"leaving at {t} is before now ({self._now})")
        self._leave(row, t)

    def reinforce(self, int site, extra_by_hour, int extra_cubicles, double t):
        """More clinicians each hour and more cubicles at `site` from `t` (now) on."""
        cdef int64_t row
        extra = checked_reinforcement(site, extra_by_hour, self.n_sites)
        cdef int h
        for h in range(24):
            self._rota[site * 24 + h] += <int>extra[h]
        self._cubicles[site] += extra_cubicles
        while not self._crews[site].empty() and self._in_cubicles[site] < self._cubicles[site]:
            row = self._crews[site].front()
            self._crews[site].pop_front()
            self._hand_over(row, t, True)
        self._call_next(site, t)

    def on_duty(self, int site):
        if site < 0 or site >= self.n_sites:
            raise ValueError(f"site out of range 0..{self.n_sites - 1}")
        return self._on_duty(site, self._now)

    @property
    def now(self):
        return self._now

    @property
    def events(self):
        """Events taken from the calendar so far."""
        return self._events

    @property
    def rota(self):
        return [[self._rota[s * 24 + h] for h in range(24)] for s in range(self.n_sites)]

    @property
    def cubicles(self):
        return [self._cubicles[s] for s in range(self.n_sites)]

    @property
    def busy(self):
        return [self._busy[s] for s in range(self.n_sites)]

    @property
    def waiting(self):
        return [[row for row in self._waiting[s]] for s in range(self.n_sites)]

    @property
    def in_cubicles(self):
        return [self._in_cubicles[s] for s in range(self.n_sites)]

    @property
    def crews(self):
        return [[row for row in self._crews[s]] for s in range(self.n_sites)]

    # -- inside --------------------------------------------------------------------------
    cdef inline void _push(self, double t, int kind, int64_t row) noexcept:
        cdef Event e
        e.time = t
        e.seq = self._seq
        e.kind = kind
        e.row = row
        heap_push(&self._calendar, e)
        self._seq += 1

    cdef inline int _on_duty(self, int s, double t) noexcept:
        return self._rota[s * 24 + <int>fmod(t, 24.0)]

    cdef void _leave(self, int64_t row, double t) noexcept:
        cdef Attendance* a = &self._rows[row]
        cdef int s = a.site
        a.present = False
        self._departure_h[row] = t
        if a.cubicle:
            self._in_cubicles[s] -= 1
            while not self._crews[s].empty() and self._in_cubicles[s] < self._cubicles[s]:
                row = self._crews[s].front()
                self._crews[s].pop_front()
                self._hand_over(row, t, True)

    cdef void _remove_crew(self, int s, int64_t row) noexcept:
        cdef deque[int64_t].iterator it = self._crews[s].begin()
        while it != self._crews[s].end():
            if deref(it) == row:
                self._crews[s].erase(it)
                return
            inc(it)

    cdef void _hand_over(self, int64_t row, double t, cbool cubicle) noexcept:
        cdef Attendance* a = &self._rows[row]
        a.crew = False
        if cubicle:
            a.cubicle = True
            self._in_cubicles[a.site] += 1
        self._handover_h[row] = t
        self._push(t + a.triage, K_REQUEST, row)

    cdef void _start(self, int64_t row, int s, double t) noexcept:
        cdef Attendance* a = &self._rows[row]
        self._busy[s] += 1
        cdef double seen = t + a.assess
        self._push(seen, K_SEEN, row)
        self._push(seen + a.treat, K_DECIDE, row)

    cdef void _call_next(self, int s, double t) noexcept:
        cdef int on_duty = self._on_duty(s, t)
        cdef int64_t row
        while not self._waiting[s].empty() and self._busy[s] < on_duty:
            row = self._waiting[s].front()
            self._waiting[s].pop_front()
            self._start(row, s, t)
