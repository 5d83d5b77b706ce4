;; A workflow component whose `workflow-types` never returns: it loops over
;; a cheap host import (`now`), which costs little fuel, so that it is the
;; wall-clock deadline for deploy-time code (module::TYPES_DEADLINE) that
;; stops it, on a blocking thread, without stalling the host.
(component
    (import "weft:plugin/workflow-host@0.1.0" (instance $host
        (export "now" (func (result u64)))))
    (core func $now (canon lower (func $host "now")))
    (core module $m
        (import "host" "now" (func $now (result i64)))
        (memory (export "mem") 1)
        (func (export "realloc") (param i32 i32 i32 i32) (result i32) i32.const 8)
        (func (export "types") (result i32)
            (loop $forever (drop (call $now)) (br $forever))
            unreachable)
        (func (export "run") (param i32 i32 i32 i32) (result i32) unreachable))
    (core instance $i (instantiate $m
        (with "host" (instance (export "now" (func $now))))))
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
    (func $run (param "workflow-type" string) (param "args" (list $payload))
        (result (result $payload (error $failure)))
        (canon lift (core func $i "run") (memory (core memory $i "mem"))
            (realloc (core func $i "realloc"))))
    (instance $guest
        (export "payload" (type $payload))
        (export "failure" (type $failure))
        (export "workflow-types" (func $types))
        (export "run" (func $run)))
    (export "weft:plugin/workflow-guest@0.1.0" (instance $guest)))
