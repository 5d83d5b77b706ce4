;; Hostile workflow guest, written as a core module because Rust has no
;; stable way to emit `table.grow`: `cargo xtask guests` embeds the
;; `weft:plugin/workflow` world and turns it into a component.
;;
;; Workflow type `HostileTable`: grows its function table by 2^16
;; elements at a time toward 2^31, so the store's table element limit must
;; stop it (a trap naming the limit). Should `table.grow` ever fail without
;; trapping, it hits `unreachable`, so the failure names no limit and the
;; e2e test notices.
(module
  (memory (export "memory") 1)
  (table $t 1 funcref)

  ;; The `list<string>` `workflow-types` returns: at 16 the list (pointer,
  ;; length), at 32 its one string (pointer, length), at 64 the bytes.
  (data (i32.const 16) "\20\00\00\00\01\00\00\00")
  (data (i32.const 32) "\40\00\00\00\0c\00\00\00")
  (data (i32.const 64) "HostileTable")

  ;; Bump allocator for the host's lowering of the arguments: nothing is
  ;; freed, as the guest traps in its first call anyway.
  (global $bump (mut i32) (i32.const 1024))
  (func (export "cabi_realloc")
    (param $old i32) (param $old_size i32) (param $align i32) (param $size i32)
    (result i32)
    (local $ptr i32)
    (local.set $ptr
      (i32.and
        (i32.add (global.get $bump) (i32.sub (local.get $align) (i32.const 1)))
        (i32.sub (i32.const 0) (local.get $align))))
    (global.set $bump (i32.add (local.get $ptr) (local.get $size)))
    (block $fits
      (br_if $fits
        (i32.le_u (global.get $bump) (i32.shl (memory.size) (i32.const 16))))
      (br_if $fits
        (i32.ne
          (memory.grow
            (i32.add
              (i32.shr_u
                (i32.sub (global.get $bump) (i32.shl (memory.size) (i32.const 16)))
                (i32.const 16))
              (i32.const 1)))
          (i32.const -1)))
      unreachable)
    (local.get $ptr))

  (func (export "weft:plugin/workflow-guest@0.1.0#workflow-types") (result i32)
    (i32.const 16))

  (func (export "weft:plugin/workflow-guest@0.1.0#run")
    (param i32 i32 i32 i32) (result i32)
    (loop $grow
      (br_if $grow
        (i32.ne
          (table.grow $t (ref.null func) (i32.const 0x10000))
          (i32.const -1))))
    unreachable)
)
