# The extras of each setup profile; sourced by scripts/bootstrap.sh and scripts/lock.sh.
# extras_of main|test prints the comma-separated extras (nothing, and status 1, for another name).
extras_of() {
  case "$1" in
    main) echo "gpu,bench,diffusion,monitor" ;;
    test) echo "gpu,bench,diffusion,monitor,postgres,analysis,web,ray,dev" ;;
    *) return 1 ;;
  esac
}
TORCH_PIN="torch==2.13.0"
CONSTRAINTS="constraints/ci.txt"
