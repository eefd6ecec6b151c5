# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False, nonecheck=False, overflowcheck=False, infer_types=False
# distutils: language = c++
# distutils: extra_compile_args = -ffp-contract=off
"""The compiled bed-and-transfer core (docs/core.md).

A line-for-line translation of `flowsim/_core/reference.py` into C++ data structures: the
calendar and each pool's queue are binary heaps of C structs (one heap, on (time, seq) and on
(priority, request time, seq)), routes and legs live in flat vectors, and the events of an
advance() collect in column vectors that become numpy arrays once, at the end. No Python
object is touched per event.

Results must be bit-identical to the twin: every floating-point operation here is the one
the twin does, in the same order (-ffp-contract=off keeps the compiler from fusing
`a + b * c` into one rounding, which Python never does).
"""

cimport cython
from libc.math cimport INFINITY
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t, uint64_t
from libc.string cimport memcpy
from cython.operator cimport dereference as deref
from libcpp.unordered_map cimport unordered_map
from libcpp.vector cimport vector

cimport numpy as cnp
import operator

import numpy as np

cnp.import_array()

from flowsim._core.kinds import CoreEvent, RouteState, Scheduled
from flowsim._core.reference import MAX_GROUP, MAX_LEGS, STATS_COUNTERS, STATS_HOURS, STATS_INT, as_capacities

# The codes, copied once from flowsim/_core/kinds.py, where both boards find them.
cdef int8_t K_GRANTED = CoreEvent.GRANTED
cdef int8_t K_MOVED = CoreEvent.MOVED
cdef int8_t K_FIT = CoreEvent.FIT
cdef int8_t K_DEPARTED = CoreEvent.DEPARTED
cdef int8_t K_LOST = CoreEvent.LOST
cdef int32_t _REQUEST = Scheduled.REQUEST
cdef int32_t _MOVE = Scheduled.MOVE
cdef int32_t _END = Scheduled.END
cdef int32_t _RENEGE = Scheduled.RENEGE
cdef int32_t _CAPACITY = Scheduled.CAPACITY
cdef int32_t _FINISH = Scheduled.FINISH
cdef int32_t _WAIVE = Scheduled.WAIVE
cdef int32_t _PENDING = RouteState.PENDING
cdef int32_t _QUEUED = RouteState.QUEUED
cdef int32_t _GRANTED = RouteState.GRANTED
cdef int32_t _STAYING = RouteState.STAYING
cdef int32_t _DONE = RouteState.DONE

cdef Py_ssize_t C_MAX_LEGS = MAX_LEGS
cdef size_t DENSE_STEP = 1 << 16  # groups the vector of groups' newest routes grows by, at least


cdef inline int64_t kept(int64_t reserve, double after, double since, double t) noexcept nogil:
    """The free slots an outlet keeps back at `t` from a request queued since `since`:
    its reserve, or none once the request has waited `after` hours (rule 2b)."""
    return 0 if since + after <= t else reserve


# ----------------------------------------------------------------------- binary heap
# One heap for the calendar and for the pool queues, specialised to each entry type when
# compiled. heapq's algorithm is not needed for identical results: the keys are unique
# (they end in a sequence number), so any correct heap pops them in the same order.

ctypedef fused HeapEntry:
    CalendarEntry
    QueueEntry


cdef inline bint before(const HeapEntry& x, const HeapEntry& y) noexcept nogil:
    """The heap order: (time, seq) in the calendar, (priority, time, seq) in a queue."""
    if HeapEntry is QueueEntry:
        if x.priority != y.priority:
            return x.priority < y.priority
    return x.time < y.time or (x.time == y.time and x.seq < y.seq)


cdef inline void heap_push(vector[HeapEntry]* heap, HeapEntry e) noexcept nogil:
    heap.push_back(e)
    cdef HeapEntry* d = heap.data()
    cdef size_t i = heap.size() - 1
    cdef size_t parent
    while i > 0:
        parent = (i - 1) >> 1
        if before(e, d[parent]):
            d[i] = d[parent]
            i = parent
        else:
            break
    d[i] = e


cdef inline HeapEntry heap_pop(vector[HeapEntry]* heap) noexcept nogil:
    cdef HeapEntry* d = heap.data()
    cdef HeapEntry top = d[0]
    cdef HeapEntry last = heap.back()
    heap.pop_back()
    cdef size_t n = heap.size()
    cdef size_t i = 0
    cdef size_t c
    if n == 0:
        return top
    while True:
        c = 2 * i + 1
        if c >= n:
            break
        if c + 1 < n and before(d[c + 1], d[c]):
            c += 1
        if before(d[c], last):
            d[i] = d[c]
            i = c
        else:
            break
    d[i] = last
    return top


cdef inline object _column(const void* src, Py_ssize_t n, int typenum, size_t itemsize):
    """A new 1-D numpy array of `n` items copied from `src`."""
    cdef cnp.npy_intp dims = n
    cdef cnp.ndarray arr = cnp.PyArray_EMPTY(1, &dims, typenum, 0)
    if n > 0:
        memcpy(cnp.PyArray_DATA(arr), src, n * itemsize)
    return arr


# ----------------------------------------------------------------------------- Board

@cython.final
cdef class Board:
    """Capacity pools, their queues and the calendar of stays and transfers (docs/core.md).

    Same API and bit-identical results as `flowsim._core.reference.Board`.
    """

    def __init__(self, capacities):
        caps = as_capacities(capacities)
        cdef Py_ssize_t n = len(caps), p
        cdef Pool pool
        self._n_pools = <int32_t>n
        self._now = 0.0
        self._seq = 0
        self._request_seq = 0
        self.pools.resize(n)
        self.queues.resize(n)
        self.outlets.resize(n)
        self.inlets.resize(n)
        self.waivers.resize(n)
        for p in range(n):
            pool = self.pools[p]
            pool.capacity = int(caps[p])
            pool.occupied = pool.queued = pool.delayed = 0
            pool.last = 0.0
            pool.capacity_hours = pool.occupied_hours = 0.0
            pool.queued_hours = pool.delayed_hours = 0.0
            pool.granted = pool.moved = pool.departed = pool.lost = pool.requested = 0
            pool.outlied = 0
            self.pools[p] = pool

    # ------------------------------------------------------------- public API

    @property
    def now(self):
        """The time (hours) the board has advanced to."""
        return self._now

    @property
    def n_pools(self):
        return self._n_pools

    def schedule_capacity(self, double t, pool, capacity):
        """Set `pool`'s capacity to `capacity` slots at time `t` (a calendar event)."""
        cdef int32_t p = self._check_pool(pool)
        cdef int64_t c = capacity
        if not (self._now <= t < INFINITY):
            raise ValueError(f"capacity change at t={t} is not finite and >= now={self._now}")
        if c < 0:
            raise ValueError(f"capacity must be >= 0, got {c}")
        self._schedule(t, _CAPACITY, p, c)

    def allow_outlying(self, pool, into, stay_factor, reserve=0, reserve_waived_after=INFINITY):
        """Let requests of `pool` be granted a slot of `into` when `pool` is full (rule 2b).

        Outlets are tried in the order they are allowed; the stay in the outlying slot is
        the leg's stay times `stay_factor` (>= 1: an outlier stays longer). `into` keeps
        `reserve` free slots back from these outliers (beds held for its own patients),
        except from a request that has queued `reserve_waived_after` hours (inf: never).
        """
        cdef int32_t p = self._check_pool(pool)
        cdef int32_t q = self._check_pool(into)
        cdef double factor = float(stay_factor)
        cdef int64_t held = operator.index(reserve)
        cdef double after = float(reserve_waived_after)
        cdef Outlet o
        cdef size_t i
        if not after >= 0.0:  # also refuses NaN
            raise ValueError(f"reserve_waived_after must be >= 0, got {reserve_waived_after}")
        if p == q:
            raise ValueError(f"pool {p} cannot outlie into itself")
        if not (1.0 <= factor < INFINITY):
            raise ValueError(f"stay_factor must be finite and >= 1, got {stay_factor}")
        if held < 0:
            raise ValueError(f"reserve must be >= 0, got {reserve}")
        for o in self.outlets[p]:
            if o.pool == q:
                raise ValueError(f"pool {p} may already outlie into pool {q}")
        o.pool = q
        o.factor = factor
        o.reserve = held
        o.waived_after = after
        self.outlets[p].push_back(o)
        o.pool = p
        self.inlets[q].push_back(o)
        if 0.0 < after < INFINITY:
            for i in range(self.waivers[p].size()):
                if self.waivers[p][i] == after:
                    return
            # kept ascending: insert before the first larger wait
            i = 0
            while i < self.waivers[p].size() and self.waivers[p][i] < after:
                i += 1
            self.waivers[p].insert(self.waivers[p].begin() + i, after)

    def admit(
        self, double t, pools, priorities, stays, readies, lags, double max_wait=INFINITY,
        group=-1, shield=0, ends_group=-1,
    ):
        """Start a route at time `t`; returns its handle (0, 1, 2, … in admission order).

        Leg 0's request joins its pool at `t + readies[0]`. Lower priority values go first.
        `max_wait` applies to leg 0 only: 0 makes it a loss system, inf waits for ever.
        Rule 9: routes of one `group` (>= 0) have one holder; moving into leg `ends_group`
        (or, when it equals the number of legs, departing the last) ends the holder's other
        routes, except those still before moving into their leg `shield`.
        """
        # Checked as integers first, as in the twin (plain ints, the model's case, as they are).
        g = group if type(group) is int else operator.index(group)
        s_ = shield if type(shield) is int else operator.index(shield)
        e_ = ends_group if type(ends_group) is int else operator.index(ends_group)
        cdef int64_t c_group = 0
        cdef int64_t c_shield = 0
        cdef int64_t c_ends = 0
        cdef bint narrow
        cdef Py_ssize_t n = len(pools), i
        if not 1 <= n <= C_MAX_LEGS:
            raise ValueError(f"a route needs 1 to {MAX_LEGS} legs, got {n}")
        if len(priorities) != n or len(stays) != n or len(readies) != n or len(lags) != n:
            raise ValueError("pools, priorities, stays, readies and lags must have equal lengths")
        # The legs are appended straight to the board's leg vector and cut off again if a
        # check fails, so a refused admission leaves the board as it was, as in the twin.
        cdef size_t first = self.legs.size()
        self.legs.resize(first + n)
        cdef Leg* leg
        try:
            for i in range(n):
                leg = &self.legs[first + i]
                leg.pool = self._check_pool(pools[i])
                leg.priority = priorities[i]
                leg.stay = stays[i]
                leg.ready = readies[i]
                leg.lag = lags[i]
            if not (self._now <= t < INFINITY):
                raise ValueError(f"admission at t={t} is not finite and >= now={self._now}")
            for i in range(n):
                leg = &self.legs[first + i]
                # `not x >= 0` also refuses NaN
                if not (leg.stay >= 0.0 and leg.ready >= 0.0 and leg.lag >= 0.0):
                    raise ValueError("stays, readies and lags must be >= 0")
                if leg.priority != leg.priority:
                    raise ValueError("priorities must not be NaN")
            if not max_wait >= 0.0:
                raise ValueError(f"max_wait must be >= 0, got {max_wait}")
            # Compared as C integers when they fit (the model's case), as Python ones otherwise.
            try:
                c_group, c_shield, c_ends = g, s_, e_
                narrow = True
            except OverflowError:
                narrow = False
            if not (0 <= c_shield <= n if narrow else 0 <= s_ <= n):
                raise ValueError(f"shield must be in 0..{n}, got {shield}")
            if not (-1 <= c_ends <= n if narrow else -1 <= e_ <= n):
                raise ValueError(f"ends_group must be in -1..{n}, got {ends_group}")
            if not (-1 <= c_group if narrow else -1 <= g <= MAX_GROUP):
                raise ValueError(f"group must be in -1..{MAX_GROUP}, got {group}")
        except BaseException:
            self.legs.resize(first)
            raise
        cdef Route route
        route.first = <int64_t>first
        route.n_legs = <int32_t>n
        route.leg = 0
        route.max_wait = max_wait
        route.state = _PENDING
        route.queued_at = 0.0
        route.queue_seq = -1
        route.group = c_group
        route.shield = <int32_t>c_shield
        route.ends_group = <int32_t>c_ends
        route.ended = 0
        route.admitted = t
        # The group's routes over are dropped from its links when it ends, not here: an
        # admission need not look at the routes before it.
        route.older = self._newest(c_group) if c_group >= 0 else -1
        cdef int64_t handle = <int64_t>self.routes.size()
        self.routes.push_back(route)
        if c_group >= 0:
            self._set_newest(c_group, handle)
        self._schedule(t + self.legs[first].ready, _REQUEST, handle, 0)
        return handle

    def end(self, double t, route):
        """End the route with handle `route` early at time `t` (a calendar event; docs/core.md).

        A queued request is withdrawn (LOST); a held slot is left (DEPARTED) and a slot
        granted downstream but not yet moved into is released; a route already over is
        left alone. The route's other calendar entries become stale.
        """
        cdef int64_t h = route
        cdef int64_t n = <int64_t>self.routes.size()
        if not 0 <= h < n:
            raise ValueError(f"route {h} is not a handle in 0..{n - 1}")
        if not (self._now <= t < INFINITY):
            raise ValueError(f"end at t={t} is not finite and >= now={self._now}")
        self._schedule(t, _FINISH, h, 0)

    def ended_early(self, routes):
        """Whether each route was ended early (rule 8 or 9) rather than by its own course."""
        cdef cnp.ndarray[int64_t, ndim=1] handles = np.ascontiguousarray(routes, dtype=np.int64).reshape(-1)
        cdef int64_t n = <int64_t>self.routes.size()
        cdef Py_ssize_t i, m = handles.shape[0]
        for i in range(m):
            if not 0 <= handles[i] < n:
                raise ValueError(f"routes must be handles in 0..{n - 1}")
        out = np.empty(m, dtype=np.bool_)
        cdef cnp.npy_bool[::1] flags = out
        for i in range(m):
            flags[i] = self.routes[handles[i]].ended != 0
        return out

    def advance(self, double until):
        """Run every calendar event with time <= `until`; return the events, in order."""
        if not (self._now <= until < INFINITY):
            raise ValueError(f"advance(until={until}) needs a finite until >= now={self._now}")
        with nogil:
            self._run(until)
        self._now = until
        # Built through numpy's C API: the model's driver calls advance() on every
        # admission, so the fixed cost of an (often empty) result matters.
        cdef Py_ssize_t n = <Py_ssize_t>self.ev_time.size()
        out = {
            "time": _column(self.ev_time.data(), n, cnp.NPY_FLOAT64, sizeof(double)),
            "kind": _column(self.ev_kind.data(), n, cnp.NPY_INT8, sizeof(int8_t)),
            "route": _column(self.ev_route.data(), n, cnp.NPY_INT64, sizeof(int64_t)),
            "pool": _column(self.ev_pool.data(), n, cnp.NPY_INT32, sizeof(int32_t)),
            "leg": _column(self.ev_leg.data(), n, cnp.NPY_INT16, sizeof(int16_t)),
        }
        self.ev_time.clear()
        self.ev_kind.clear()
        self.ev_route.clear()
        self.ev_pool.clear()
        self.ev_leg.clear()
        return out

    def next_time(self):
        """Time of the next calendar event that will do something; inf if none."""
        # A renege whose request was granted meanwhile does nothing, nor does any entry of
        # a route that is over (ended early, or an end() after it departed or was lost):
        # drop them here so the caller is not woken for them.
        while not self.calendar.empty() and self._stale(
            self.calendar[0].kind, self.calendar[0].a, self.calendar[0].b
        ):
            heap_pop(&self.calendar)
        return self.calendar[0].time if not self.calendar.empty() else INFINITY

    def stats(self):
        """Per-pool state now, time integrals since time 0 (up to `now`), and counters."""
        cdef Py_ssize_t n = self._n_pools, p
        cdef double now = self._now
        cdef Pool* s
        out = {}
        for key in STATS_INT + STATS_HOURS + STATS_COUNTERS:
            out[key] = np.empty(n, dtype=np.float64 if key in STATS_HOURS else np.int64)
        cdef int64_t[::1] capacity = out["capacity"], occupied = out["occupied"]
        cdef int64_t[::1] queued = out["queued"], delayed = out["delayed"]
        cdef int64_t[::1] granted = out["granted"], moved = out["moved"]
        cdef int64_t[::1] departed = out["departed"], lost = out["lost"]
        cdef int64_t[::1] requested = out["requested"]
        cdef int64_t[::1] outlied = out["outlied"]
        cdef double[::1] capacity_hours = out["capacity_hours"]
        cdef double[::1] occupied_hours = out["occupied_hours"]
        cdef double[::1] queued_hours = out["queued_hours"]
        cdef double[::1] delayed_hours = out["delayed_hours"]
        for p in range(n):
            s = &self.pools[p]
            capacity[p] = s.capacity
            occupied[p] = s.occupied
            queued[p] = s.queued
            delayed[p] = s.delayed
            # Brought to `now` without being stored, so stats() changes nothing.
            capacity_hours[p] = s.capacity_hours + <double>s.capacity * (now - s.last)
            occupied_hours[p] = s.occupied_hours + <double>s.occupied * (now - s.last)
            queued_hours[p] = s.queued_hours + <double>s.queued * (now - s.last)
            delayed_hours[p] = s.delayed_hours + <double>s.delayed * (now - s.last)
            granted[p] = s.granted
            moved[p] = s.moved
            departed[p] = s.departed
            lost[p] = s.lost
            requested[p] = s.requested
            outlied[p] = s.outlied
        return out

    def queue_length(self, pool):
        return self.pools[self._check_pool(pool)].queued

    def occupied(self, pool):
        return self.pools[self._check_pool(pool)].occupied

    def capacity(self, pool):
        return self.pools[self._check_pool(pool)].capacity

    # -------------------------------------------------------------- the rules

    cdef void _run(self, double until) noexcept nogil:
        cdef CalendarEntry e
        while not self.calendar.empty() and self.calendar[0].time <= until:
            e = heap_pop(&self.calendar)
            self._now = e.time
            if e.kind == _REQUEST:
                self._request(e.time, e.a, <int32_t>e.b)
            elif e.kind == _MOVE:
                self._move(e.time, e.a, <int32_t>e.b)
            elif e.kind == _END:
                self._end_of_stay(e.time, e.a, <int32_t>e.b)
            elif e.kind == _RENEGE:
                self._renege(e.time, e.a)
            elif e.kind == _FINISH:
                self._finish(e.time, e.a)
            elif e.kind == _WAIVE:
                self._waive(e.time, e.a, e.b)
            else:
                self._set_capacity(e.time, <int32_t>e.a, e.b)

    cdef void _request(self, double t, int64_t h, int32_t k) noexcept nogil:
        """Rule 2: grant at once if a slot is free and nobody queues; else queue or lose."""
        cdef Route* route = &self.routes[h]
        if route.state == _DONE:
            return  # ended early: stale
        cdef Leg* leg = &self.legs[route.first + k]
        cdef int32_t p = leg.pool
        cdef Pool* s = &self.pools[p]
        cdef QueueEntry q
        cdef Outlet o
        cdef Pool* r
        cdef double after
        self._integrate(p, t)
        s.requested += 1
        if s.occupied < s.capacity and s.queued == 0:
            self._grant(t, h, p, k)
            return
        for o in self.outlets[p]:
            r = &self.pools[o.pool]
            if r.occupied + kept(o.reserve, o.waived_after, t, t) < r.capacity and r.queued == 0:
                self._integrate(o.pool, t)
                self._grant_outlier(t, h, o.pool, k, o.factor)
                return
        if k == 0 and route.max_wait == 0.0:
            s.lost += 1
            route.state = _DONE
            self._emit(t, K_LOST, h, p, 0)
        else:
            s.queued += 1
            route.state = _QUEUED
            route.queued_at = t
            route.queue_seq = self._request_seq
            q.priority = leg.priority
            q.time = t
            q.seq = self._request_seq
            q.route = h
            heap_push(&self.queues[p], q)
            self._request_seq += 1
            if k == 0 and route.max_wait < INFINITY:
                self._schedule(t + route.max_wait, _RENEGE, h, 0)
            for after in self.waivers[p]:
                self._schedule(t + after, _WAIVE, h, q.seq)

    cdef void _grant(self, double t, int64_t h, int32_t p, int32_t k) noexcept nogil:
        """Rule 3: the slot counts as occupied from now; the move follows after the lag."""
        cdef Pool* s = &self.pools[p]
        s.occupied += 1
        s.granted += 1
        self.routes[h].state = _GRANTED
        self._emit(t, K_GRANTED, h, p, k)
        self._schedule(t + self.legs[self.routes[h].first + k].lag, _MOVE, h, k)

    cdef void _grant_outlier(self, double t, int64_t h, int32_t q, int32_t k, double factor) noexcept nogil:
        """Rule 2b: leg k is granted a slot of `q`, another pool: it stays there longer."""
        cdef Leg* leg = &self.legs[self.routes[h].first + k]
        leg.pool = q
        leg.stay = leg.stay * factor
        self.pools[q].outlied += 1
        self._grant(t, h, q, k)

    cdef void _move(self, double t, int64_t h, int32_t k) noexcept nogil:
        """Rule 4: the patient moves in; the previous leg's slot frees (delay over)."""
        cdef Route* route = &self.routes[h]
        if route.state == _DONE:
            return  # ended early during the lag: stale
        cdef Leg* leg = &self.legs[route.first + k]
        cdef int32_t p = leg.pool
        cdef int32_t q
        cdef Pool* s
        self.pools[p].moved += 1
        route.state = _STAYING
        self._emit(t, K_MOVED, h, p, k)
        if k > 0:
            q = self.legs[route.first + k - 1].pool
            self._integrate(q, t)
            s = &self.pools[q]
            s.occupied -= 1
            s.delayed -= 1
            self._fill(q, t)
        self._schedule(t + leg.stay, _END, h, k)
        if route.ends_group == k:
            self._end_group(t, h)

    cdef void _end_of_stay(self, double t, int64_t h, int32_t k) noexcept nogil:
        """Rule 5: the last leg departs and frees its slot; an earlier one becomes FIT."""
        cdef Route* route = &self.routes[h]
        if route.state == _DONE:
            return  # ended early during the stay: stale
        cdef int32_t p = self.legs[route.first + k].pool
        cdef Pool* s = &self.pools[p]
        self._integrate(p, t)
        if k == route.n_legs - 1:
            s.occupied -= 1
            s.departed += 1
            route.state = _DONE
            self._emit(t, K_DEPARTED, h, p, k)
            self._fill(p, t)
            if route.ends_group == k + 1:
                self._end_group(t, h)
        else:
            # Medically fit but still in the bed until the next leg's slot is moved into.
            s.delayed += 1
            self._emit(t, K_FIT, h, p, k)
            route.leg = k + 1
            route.state = _PENDING
            self._schedule(t + self.legs[route.first + k + 1].ready, _REQUEST, h, k + 1)

    cdef void _renege(self, double t, int64_t h) noexcept nogil:
        """Rule 2: a leg-0 request still queued after max_wait hours is LOST."""
        if not self._still_waiting_leg0(h):
            return
        cdef Route* route = &self.routes[h]
        cdef int32_t p = self.legs[route.first].pool
        cdef Pool* s = &self.pools[p]
        self._integrate(p, t)
        s.queued -= 1
        route.state = _DONE  # its queue entry stays in the heap, now dead
        s.lost += 1
        self._emit(t, K_LOST, h, p, 0)

    cdef void _waive(self, double t, int64_t h, int64_t seq) noexcept nogil:
        """Rule 2b: a request still queued when an outlet's reserve is waived for it is
        granted in the first of its pool's outlets with a slot it may now take."""
        cdef Route* route = &self.routes[h]
        if route.state != _QUEUED or route.queue_seq != seq:
            return  # granted, reneged or ended meanwhile: stale
        cdef int32_t k = route.leg
        cdef int32_t p = self.legs[route.first + k].pool
        cdef Outlet o
        cdef Pool* r
        for o in self.outlets[p]:
            r = &self.pools[o.pool]
            if r.occupied + kept(o.reserve, o.waived_after, route.queued_at, t) < r.capacity and r.queued == 0:
                self._integrate(p, t)
                self.pools[p].queued -= 1  # its queue entry stays in the heap, now dead
                self._integrate(o.pool, t)
                self._grant_outlier(t, h, o.pool, k, o.factor)
                return

    cdef void _finish(self, double t, int64_t h) noexcept nogil:
        """end(): the route ends early; what it holds or waits for is given up now."""
        cdef int32_t state = self._stop(t, h)
        if state >= 0:
            self._free(t, h, state)

    cdef int32_t _stop(self, double t, int64_t h) noexcept nogil:
        """The first half of an early end: the route is over from now, so nothing can be
        granted to it, and a queued request is withdrawn (LOST; no slot frees in that
        pool). Returns the state it was in, or -1 if it was over already."""
        cdef Route* route = &self.routes[h]
        cdef int32_t state = route.state
        cdef int32_t k = route.leg
        cdef int32_t p
        cdef Pool* s
        if state == _DONE:
            return -1  # departed or lost already (or ended twice): nothing happens
        route.state = _DONE  # its other calendar entries, and a queue entry, are now dead
        route.ended = 1
        if state == _QUEUED:
            p = self.legs[route.first + k].pool
            s = &self.pools[p]
            self._integrate(p, t)
            s.queued -= 1
            s.lost += 1
            self._emit(t, K_LOST, h, p, k)
        return state

    cdef void _free(self, double t, int64_t h, int32_t state) noexcept nogil:
        """The second half: the slots the route held, in the state it was in, free (each
        granted down its queue)."""
        cdef Route* route = &self.routes[h]
        cdef int32_t k = route.leg
        cdef int32_t p, q
        cdef Pool* s
        if state == _QUEUED:
            if k > 0:  # fit in the slot of leg k - 1 while queued for leg k
                self._leave_fit_slot(t, self.legs[route.first + k - 1].pool)
        elif state == _STAYING or (k == 0 and state == _GRANTED):
            # The slot of leg k (moved in, or granted and still in its lag) frees.
            p = self.legs[route.first + k].pool
            s = &self.pools[p]
            self._integrate(p, t)
            s.occupied -= 1
            s.departed += 1
            self._emit(t, K_DEPARTED, h, p, k)
            self._fill(p, t)
        elif k > 0:
            # Fit in the slot of leg k - 1, with leg k's request pending (_PENDING) or its
            # slot granted and the move not yet made (_GRANTED). The fit slot frees first;
            # then a granted slot downstream is released, silently.
            q = self.legs[route.first + k - 1].pool
            self.pools[q].departed += 1
            self._emit(t, K_DEPARTED, h, q, k - 1)
            self._leave_fit_slot(t, q)
            if state == _GRANTED:
                p = self.legs[route.first + k].pool
                self._integrate(p, t)
                self.pools[p].occupied -= 1
                self._fill(p, t)
        # else: leg 0 not yet requested (_PENDING): it holds nothing; no event.

    cdef void _end_group(self, double t, int64_t h) noexcept nogil:
        """Rule 9: route h's holder died or moved: their other routes, but those still
        shielded, end now, as in rule 8: first all are over and their queued requests
        withdrawn, then their slots free, each in admission order."""
        cdef int64_t g = self.routes[h].group
        if g < 0:
            return
        # The group's routes not known to be over, oldest first (the links run newest first).
        cdef vector[int64_t] members
        cdef int64_t r = self._live_members(self._newest(g))
        self._set_newest(g, r)  # headed by its newest route not over; none: forgotten
        while r >= 0:
            members.push_back(r)
            r = self.routes[r].older
        cdef size_t i, n = members.size()
        cdef int32_t state
        # All of them are over before any slot frees, so none is granted a slot another
        # has just given up.
        cdef vector[int64_t] stopped
        cdef vector[int32_t] states
        for i in range(n):
            r = members[n - 1 - i]
            # A route admitted at this moment or later is not yet the holder's: how far the
            # board had been advanced when it was admitted must not matter.
            if r != h and self.routes[r].admitted < t and not self._shielded(r):
                state = self._stop(t, r)
                if state >= 0:
                    stopped.push_back(r)
                    states.push_back(state)
        for i in range(stopped.size()):
            self._free(t, stopped[i], states[i])

    cdef int64_t _newest(self, int64_t g) noexcept nogil:
        """The newest route of group `g`, or -1."""
        if <uint64_t>g < self.newest_dense.size() and self.newest_dense[g] >= 0:
            return self.newest_dense[g]
        if self.newest_sparse.empty():
            return -1
        cdef unordered_map[int64_t, int64_t].iterator it = self.newest_sparse.find(g)
        return -1 if it == self.newest_sparse.end() else deref(it).second

    cdef void _set_newest(self, int64_t g, int64_t h) noexcept nogil:
        """Make `h` (or -1: none) the newest route of group `g`. Groups numbered up to
        about twice the highest seen so far (people's ids, as they come) go in a vector
        indexed by group, which grows as they do; a group far beyond goes in a hash map,
        so one large number costs no memory for those below it."""
        cdef size_t n = self.newest_dense.size()
        if <uint64_t>g >= n and <uint64_t>g < 2 * n + DENSE_STEP:
            self.newest_dense.resize(2 * n + DENSE_STEP, -1)
            n = self.newest_dense.size()
        if <uint64_t>g < n:
            self.newest_dense[g] = h
            if not self.newest_sparse.empty():
                self.newest_sparse.erase(g)  # placed there before the vector reached it
        elif h >= 0:
            self.newest_sparse[g] = h
        else:
            self.newest_sparse.erase(g)

    cdef int64_t _live_members(self, int64_t newest) noexcept nogil:
        """Unlink the routes that are over from the links that start at `newest`; returns
        the newest route still live (-1 if none)."""
        cdef int64_t first = -1, last = -1, r = newest
        while r >= 0:
            if self.routes[r].state != _DONE:
                if last < 0:
                    first = r
                else:
                    self.routes[last].older = r
                last = r
            r = self.routes[r].older
        if last >= 0:
            self.routes[last].older = -1
        return first

    cdef bint _shielded(self, int64_t h) noexcept nogil:
        """Still before moving into leg `shield`: waiting for or holding an earlier leg's slot."""
        cdef Route* route = &self.routes[h]
        return route.leg < route.shield or (
            0 < route.leg and route.leg == route.shield and route.state != _STAYING
        )

    cdef void _leave_fit_slot(self, double t, int32_t q) noexcept nogil:
        """A fit (delayed) patient leaves its slot in `q` without moving on: it frees."""
        self._integrate(q, t)
        cdef Pool* s = &self.pools[q]
        s.occupied -= 1
        s.delayed -= 1
        self._fill(q, t)

    cdef void _set_capacity(self, double t, int32_t p, int64_t capacity) noexcept nogil:
        """Rules 6 and 7: a fall evicts nobody; a rise grants to the queue."""
        self._integrate(p, t)
        self.pools[p].capacity = capacity
        self._fill(p, t)

    cdef void _fill(self, int32_t p, double t) noexcept nogil:
        """Rule 6: grant to the head of `p`'s queue while a slot is free."""
        cdef vector[QueueEntry]* queue = &self.queues[p]
        cdef Pool* s = &self.pools[p]
        cdef QueueEntry head
        cdef Route* route
        while s.occupied < s.capacity and s.queued > 0:
            head = heap_pop(queue)
            route = &self.routes[head.route]
            if route.state != _QUEUED or route.queue_seq != head.seq:
                continue  # reneged, ended or granted earlier: lazy deletion
            s.queued -= 1
            self._grant(t, head.route, p, route.leg)
        # Rule 2b: a slot still free, with nobody of this pool waiting, goes to the
        # earliest, by (priority, request time, seq), of: the heads of the queues that may
        # outlie here with more free slots than their reserve; and, where the reserve
        # leaves none, each queue's earliest request that has waited long enough for the
        # reserve to be waived.
        cdef int32_t best
        cdef double best_factor
        cdef bint waived, by_waiver
        cdef QueueEntry best_head, candidate
        cdef size_t i
        cdef Outlet o
        while s.occupied < s.capacity:
            best = -1
            best_factor = 1.0
            waived = False
            for i in range(self.inlets[p].size()):
                o = self.inlets[p][i]
                if self.pools[o.pool].queued == 0:
                    continue
                if s.occupied + o.reserve < s.capacity:
                    candidate = self._live_head(o.pool)
                    by_waiver = False
                elif o.waived_after < INFINITY:
                    if not self._earliest_waived(o.pool, o.waived_after, t, &candidate):
                        continue
                    by_waiver = True
                else:
                    continue
                if best < 0 or before(candidate, best_head):
                    best = o.pool
                    best_head = candidate
                    best_factor = o.factor
                    waived = by_waiver
            if best < 0:
                break
            if not waived:
                heap_pop(&self.queues[best])  # the head; a waived entry is left, dead
            self._integrate(best, t)
            self.pools[best].queued -= 1
            self._grant_outlier(t, best_head.route, p, self.routes[best_head.route].leg, best_factor)

    cdef QueueEntry _live_head(self, int32_t p) noexcept nogil:
        """The head of `p`'s queue after dropping entries left behind (lazy deletion)."""
        cdef vector[QueueEntry]* queue = &self.queues[p]
        while not self._live(self.queues[p][0]):
            heap_pop(queue)
        return self.queues[p][0]

    cdef bint _earliest_waived(self, int32_t p, double after, double t, QueueEntry* out) noexcept nogil:
        """The earliest live request of `p`'s queue that joined it `after` hours ago or
        more, into `out`; False if there is none."""
        cdef bint found = False
        cdef size_t i
        cdef QueueEntry* e
        for i in range(self.queues[p].size()):
            e = &self.queues[p][i]
            if e.time + after <= t and self._live(e[0]) and (not found or before(e[0], out[0])):
                out[0] = e[0]
                found = True
        return found

    cdef bint _live(self, const QueueEntry& e) noexcept nogil:
        """A queue entry still waiting: not left behind."""
        cdef Route* route = &self.routes[e.route]
        return route.state == _QUEUED and route.queue_seq == e.seq

    # ------------------------------------------------------------ bookkeeping

    cdef bint _still_waiting_leg0(self, int64_t h) noexcept nogil:
        cdef Route* route = &self.routes[h]
        return route.state == _QUEUED and route.leg == 0

    cdef bint _stale(self, int32_t kind, int64_t a, int64_t b) noexcept nogil:
        """A calendar entry that will do nothing when it runs (next_time() skips it)."""
        cdef Route* route
        if kind == _RENEGE:
            return not self._still_waiting_leg0(a)
        if kind == _WAIVE:
            route = &self.routes[a]
            return route.state != _QUEUED or route.queue_seq != b
        return kind != _CAPACITY and self.routes[a].state == _DONE

    cdef void _integrate(self, int32_t p, double t) noexcept nogil:
        """Bring pool `p`'s time integrals up to `t`; call before any of its counts change."""
        cdef Pool* s = &self.pools[p]
        cdef double dt = t - s.last
        if dt != 0.0:
            s.capacity_hours += <double>s.capacity * dt
            s.occupied_hours += <double>s.occupied * dt
            s.queued_hours += <double>s.queued * dt
            s.delayed_hours += <double>s.delayed * dt
            s.last = t

    cdef void _schedule(self, double t, int32_t kind, int64_t a, int64_t b) noexcept nogil:
        cdef CalendarEntry e
        e.time = t
        e.seq = self._seq
        e.kind = kind
        e.a = a
        e.b = b
        heap_push(&self.calendar, e)
        self._seq += 1

    cdef void _emit(self, double t, int8_t kind, int64_t h, int32_t p, int32_t k) noexcept nogil:
        self.ev_time.push_back(t)
        self.ev_kind.push_back(kind)
        self.ev_route.push_back(h)
        self.ev_pool.push_back(p)
        self.ev_leg.push_back(<int16_t>k)

    cdef int32_t _check_pool(self, object pool) except -1:
        cdef int64_t p = pool
        if not 0 <= p < self._n_pools:
            raise ValueError(f"pool {p} is not in 0..{self._n_pools - 1}")
        return <int32_t>p
