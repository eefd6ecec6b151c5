# The compiled bed-and-transfer core: C-level declarations. See docs/core.md for the
# semantics and flowsim/_core/reference.py for the readable twin it must match exactly.

cimport cython
from libc.stdint cimport int8_t, int16_t, int32_t, int64_t
from libcpp.unordered_map cimport unordered_map
from libcpp.vector cimport vector


cdef struct CalendarEntry:
    # A heap on (time, seq): seq is unique, so the order never depends on the payload.
    double time
    int64_t seq
    int32_t kind        # a Scheduled code (flowsim/_core/kinds.py)
    int64_t a           # route, or pool for _CAPACITY
    int64_t b           # leg, or the new capacity for _CAPACITY


cdef struct QueueEntry:
    # A pool's queue is a heap on (priority, time, seq): lower first.
    double priority
    double time         # when the request joined the queue
    int64_t seq
    int64_t route


cdef struct Leg:
    int32_t pool
    double priority
    double stay         # hours in the pool after moving in
    double ready        # hours from the previous stay's end (or admission) to the request
    double lag          # hours from the grant to moving in


cdef struct Outlet:
    # Outlying (rule 2b): the other pool, and the factor on a stay there.
    int32_t pool
    double factor
    int64_t reserve     # free slots the outlet keeps back from outliers
    double waived_after # hours a request queues before the reserve is waived for it


cdef struct Route:
    # Eight-byte fields first, then four-byte ones: 80 bytes, not 96 with padding.
    int64_t first       # index of leg 0 in Board.legs
    double max_wait     # leg 0 only
    double queued_at    # while queued: when the request joined the queue
    int64_t queue_seq   # while queued: the seq of its live queue entry
    int64_t group       # rule 9: the holder's routes (>= 0), or -1
    double admitted     # the admit() time: only routes admitted before a group end join it
    int64_t older       # rule 9: the group's member admitted before this one (-1: none)
    int32_t n_legs
    int32_t leg         # the leg requested, queued, granted or staying
    int32_t state       # a RouteState code (flowsim/_core/kinds.py)
    int32_t shield      # never ended by its group before moving into this leg
    int32_t ends_group  # moving into this leg (n_legs: departing) ends the group's others; -1 never
    int8_t ended        # ended early (rule 8 or 9), not by its own course


cdef struct Pool:
    int64_t capacity
    int64_t occupied
    int64_t queued
    int64_t delayed
    double last         # time up to which the integrals below are accumulated
    double capacity_hours
    double occupied_hours
    double queued_hours
    double delayed_hours
    int64_t granted
    int64_t moved
    int64_t departed
    int64_t lost
    int64_t requested
    int64_t outlied     # grants here to requests of another pool (rule 2b)


# final: no subclass can override the cdef methods, so they are called directly (and
# inlined by the C++ compiler) rather than through a virtual table.
@cython.final
cdef class Board:
    cdef double _now
    cdef int64_t _seq
    cdef int64_t _request_seq
    cdef int32_t _n_pools
    cdef vector[CalendarEntry] calendar
    cdef vector[vector[QueueEntry]] queues
    cdef vector[Route] routes
    cdef vector[Leg] legs
    cdef vector[Pool] pools
    cdef vector[vector[Outlet]] outlets  # per pool: where its requests may outlie, in order
    cdef vector[vector[Outlet]] inlets   # per pool: whose queued requests may outlie here
    cdef vector[vector[double]] waivers  # per pool: distinct finite waits > 0 waiving a reserve
    # Rule 9: each group's newest route, whose `older` links run back through the group's
    # routes not known to be over: by group in a vector while groups come in order (a
    # person id), in a hash map beyond (see _set_newest).
    cdef vector[int64_t] newest_dense
    cdef unordered_map[int64_t, int64_t] newest_sparse
    # Events run since the last advance() returned, as columns.
    cdef vector[double] ev_time
    cdef vector[int8_t] ev_kind
    cdef vector[int64_t] ev_route
    cdef vector[int32_t] ev_pool
    cdef vector[int16_t] ev_leg

    cdef void _run(self, double until) noexcept nogil
    cdef void _request(self, double t, int64_t h, int32_t k) noexcept nogil
    cdef void _grant(self, double t, int64_t h, int32_t p, int32_t k) noexcept nogil
    cdef void _grant_outlier(self, double t, int64_t h, int32_t q, int32_t k, double factor) noexcept nogil
    cdef QueueEntry _live_head(self, int32_t p) noexcept nogil
    cdef bint _earliest_waived(self, int32_t p, double after, double t, QueueEntry* out) noexcept nogil
    cdef bint _live(self, const QueueEntry& e) noexcept nogil
    cdef void _move(self, double t, int64_t h, int32_t k) noexcept nogil
    cdef void _end_of_stay(self, double t, int64_t h, int32_t k) noexcept nogil
    cdef void _renege(self, double t, int64_t h) noexcept nogil
    cdef void _waive(self, double t, int64_t h, int64_t seq) noexcept nogil
    cdef void _finish(self, double t, int64_t h) noexcept nogil
    cdef int32_t _stop(self, double t, int64_t h) noexcept nogil
    cdef void _free(self, double t, int64_t h, int32_t state) noexcept nogil
    cdef void _end_group(self, double t, int64_t h) noexcept nogil
    cdef bint _shielded(self, int64_t h) noexcept nogil
    cdef int64_t _newest(self, int64_t g) noexcept nogil
    cdef void _set_newest(self, int64_t g, int64_t h) noexcept nogil
    cdef int64_t _live_members(self, int64_t newest) noexcept nogil
    cdef void _leave_fit_slot(self, double t, int32_t q) noexcept nogil
    cdef void _set_capacity(self, double t, int32_t p, int64_t capacity) noexcept nogil
    cdef void _fill(self, int32_t p, double t) noexcept nogil
    cdef bint _still_waiting_leg0(self, int64_t h) noexcept nogil
    cdef bint _stale(self, int32_t kind, int64_t a, int64_t b) noexcept nogil
    cdef void _integrate(self, int32_t p, double t) noexcept nogil
    cdef void _schedule(self, double t, int32_t kind, int64_t a, int64_t b) noexcept nogil
    cdef void _emit(self, double t, int8_t kind, int64_t h, int32_t p, int32_t k) noexcept nogil
    cdef int32_t _check_pool(self, object pool) except -1
