# Builds CO-RE BPF objects with clang and turns each into a libbpf skeleton with bpftool.
# vmlinux.h comes from the build machine's kernel BTF unless NETVIZ_VMLINUX_H names one;
# CO-RE relocations make the result portable to other BTF-enabled kernels.
find_program(BPF_CLANG NAMES clang clang-16 clang-15 clang-14 REQUIRED)
find_program(BPFTOOL NAMES bpftool PATHS /usr/sbin /usr/local/sbin REQUIRED)

set(NETVIZ_SKEL_DIR ${CMAKE_BINARY_DIR}/bpf)
file(MAKE_DIRECTORY ${NETVIZ_SKEL_DIR})

if(NETVIZ_VMLINUX_H)
  set(NETVIZ_VMLINUX ${NETVIZ_VMLINUX_H})
else()
  set(NETVIZ_VMLINUX ${NETVIZ_SKEL_DIR}/vmlinux/vmlinux.h)
  if(NOT EXISTS /sys/kernel/btf/vmlinux)
    message(FATAL_ERROR "No kernel BTF at /sys/kernel/btf/vmlinux; pass -DNETVIZ_VMLINUX_H=path/to/vmlinux.h")
  endif()
  add_custom_command(OUTPUT ${NETVIZ_VMLINUX}
    COMMAND ${CMAKE_COMMAND} -E make_directory ${NETVIZ_SKEL_DIR}/vmlinux
    COMMAND sh -c "${BPFTOOL} btf dump file /sys/kernel/btf/vmlinux format c > ${NETVIZ_VMLINUX}.tmp && mv ${NETVIZ_VMLINUX}.tmp ${NETVIZ_VMLINUX}"
    COMMENT "Generating vmlinux.h from kernel BTF" VERBATIM)
endif()
# One target owns vmlinux.h: every skeleton waits for it, so parallel builds never race to
# write it.
add_custom_target(netviz_vmlinux DEPENDS ${NETVIZ_VMLINUX})
get_filename_component(NETVIZ_VMLINUX_DIR ${NETVIZ_VMLINUX} DIRECTORY)

if(CMAKE_SYSTEM_PROCESSOR MATCHES "x86_64|amd64")
  set(BPF_TARGET_ARCH x86)
elseif(CMAKE_SYSTEM_PROCESSOR MATCHES "aarch64|arm64")
  set(BPF_TARGET_ARCH arm64)
else()
  set(BPF_TARGET_ARCH ${CMAKE_SYSTEM_PROCESSOR})
endif()

# netviz_bpf_skeleton(NAME SOURCES...): compiles each source and, for more than one, links
# the objects into one (bpftool gen object: maps and settings declared alike in each part are
# kept once, see bpf/maps.bpf.h), then makes ${NETVIZ_SKEL_DIR}/NAME.skel.h with the skeleton
# type NAME_bpf. Adds the target NAME_skeleton that builds it.
function(netviz_bpf_skeleton name)
  set(sources ${ARGN})
  file(GLOB shared_headers ${CMAKE_SOURCE_DIR}/include/netviz/*.h ${CMAKE_SOURCE_DIR}/bpf/*.h)
  set(obj ${NETVIZ_SKEL_DIR}/${name}.bpf.o)
  set(skel ${NETVIZ_SKEL_DIR}/${name}.skel.h)
  list(LENGTH sources n)
  set(parts)
  foreach(src ${sources})
    get_filename_component(part ${src} NAME_WE)
    if(n EQUAL 1)
      set(part_obj ${obj})
    else()
      set(part_obj ${NETVIZ_SKEL_DIR}/parts/${name}/${part}.bpf.o)
    endif()
    get_filename_component(part_dir ${part_obj} DIRECTORY)
    get_filename_component(src_dir ${src} DIRECTORY)
    add_custom_command(OUTPUT ${part_obj}
      COMMAND ${CMAKE_COMMAND} -E make_directory ${part_dir}
      COMMAND ${BPF_CLANG} -g -O2 -target bpf -D__TARGET_ARCH_${BPF_TARGET_ARCH}
              -Wall -Wno-unused-function
              -I${NETVIZ_VMLINUX_DIR} -I${CMAKE_SOURCE_DIR}/include -I${CMAKE_SOURCE_DIR}/bpf
              -I${src_dir} -c ${src} -o ${part_obj}
      DEPENDS ${src} ${shared_headers} ${NETVIZ_VMLINUX}
      COMMENT "BPF ${part}.bpf.c" VERBATIM)
    list(APPEND parts ${part_obj})
  endforeach()
  if(NOT n EQUAL 1)
    add_custom_command(OUTPUT ${obj}
      COMMAND ${BPFTOOL} gen object ${obj} ${parts}
      DEPENDS ${parts}
      COMMENT "BPF link ${name}.bpf.o" VERBATIM)
  endif()
  add_custom_command(OUTPUT ${skel}
    COMMAND sh -c "${BPFTOOL} gen skeleton ${obj} name ${name}_bpf > ${skel}.tmp && mv ${skel}.tmp ${skel}"
    DEPENDS ${obj}
    COMMENT "Skeleton ${name}.skel.h" VERBATIM)
  add_custom_target(${name}_skeleton DEPENDS ${skel})
  add_dependencies(${name}_skeleton netviz_vmlinux)
endfunction()
