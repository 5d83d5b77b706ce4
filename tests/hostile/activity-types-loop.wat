;; An activity component whose `activity-types` never returns: a tight loop
;; in wasm. Loading it must fail at the deadline for deploy-time code
;; (module::TYPES_DEADLINE), on a blocking thread, without stalling the host.
(component
    (core module $m
        (memory (export "mem") 1)
        (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
        (func (export "types") (result i32) (loop $forever (br $forever)) unreachable)
        (func (export "execute") (param i32 i32 i32 i32) (result i32) unreachable))
    (core instance $i (instantiate $m))
    (type $payload (record
        (field "metadata" (list (tuple string (list u8))))
        (field "data" (list u8))))
    (type $failure (record
        (field "message" string)
        (field "error-type" string)
        (field "non-retryable" bool)
        (field "details" (list $payload))))
    (func $types (result (list string))
        (canon lift (core func $i "types") (memory (core memory $i "mem"))
            (realloc (core func $i "realloc"))))
    (func $execute (param "activity-type" string) (param "args" (list $payload))
        (result (result $payload (error $failure)))
        (canon lift (core func $i "execute") (memory (core memory $i "mem"))
            (realloc (core func $i "realloc"))))
    (instance $guest
        (export "payload" (type $payload))
        (export "failure" (type $failure))
        (export "activity-types" (func $types))
        (export "execute" (func $execute)))
    (export "weft:plugin/activity-guest@0.1.0" (instance $guest)))
