// Shell completion scripts, generated from the command tree so they never fall behind it. Pure.
import type { Command } from './command.ts';

export const Shell = { Bash: 'bash', Zsh: 'zsh', Fish: 'fish' } as const;
export type Shell = (typeof Shell)[keyof typeof Shell];

function flagsOf(command: Command): string[] {
  const flags = Object.entries(command.options).flatMap(([name, spec]) => [
    `--${name}`,
    ...(spec.short ? [`-${spec.short}`] : []),
  ]);
  return [...flags, '--help'];
}

/** For a command that takes a NAME: which group lists them, and which flags take a value. */
function namesOf(command: Command): string {
  if (!command.completesNamesOf) return '';
  const valued = Object.entries(command.options)
    .filter(([, spec]) => spec.type === 'string')
    .flatMap(([name, spec]) => [`--${name}`, ...(spec.short ? [`-${spec.short}`] : [])]);
  return `; names=${command.completesNamesOf}; valued=" ${valued.join(' ')} "`;
}

function bash(commands: readonly Command[]): string {
  const cases: string[] = [];
  for (const c of commands) {
    if (c.subcommands) {
      const subs = c.subcommands;
      cases.push(
        `    ${c.name})`,
        `      if [ "$COMP_CWORD" -eq 2 ]; then words="${subs.map((s) => s.name).join(' ')}"; else`,
        `        case "\${COMP_WORDS[2]}" in`,
        ...subs.map((s) => `          ${s.name}) words="${flagsOf(s).join(' ')}"${namesOf(s)} ;;`),
        '        esac',
        '      fi ;;',
      );
    } else {
      cases.push(`    ${c.name}) words="${flagsOf(c).join(' ')}" ;;`);
    }
  }
  return [
    '# bash completion for cairn: source <(cairn completion bash)',
    '_cairn() {',
    '  local cur="${COMP_WORDS[COMP_CWORD]}" words="" names="" valued=""',
    '  if [ "$COMP_CWORD" -eq 1 ]; then',
    `    words="${commands.map((c) => c.name).join(' ')} help"`,
    '  else',
    '    case "${COMP_WORDS[1]}" in',
    ...cases,
    '    esac',
    '  fi',
    // A NAME: ask the cluster (same kubeconfig, context and namespace as the line so far).
    '  if [ -n "$names" ] && [ "${cur#-}" = "$cur" ]; then',
    '    case "$valued" in',
    '      *" ${COMP_WORDS[COMP_CWORD-1]} "*) ;;',
    '      *)',
    '        local scope=() i',
    '        for ((i = 3; i < ${#COMP_WORDS[@]} - 1; i++)); do',
    '          case "${COMP_WORDS[i]}" in -n|--namespace|--context|--kubeconfig) scope+=("${COMP_WORDS[i]}" "${COMP_WORDS[i+1]}") ;; esac',
    '        done',
    '        COMPREPLY=($(compgen -W "$("${COMP_WORDS[0]}" "$names" list -o name "${scope[@]}" 2>/dev/null)" -- "$cur"))',
    '        return ;;',
    '    esac',
    '  fi',
    '  if [ "$COMP_CWORD" -gt 1 ] && [ "${cur#-}" = "$cur" ] && [ "${COMP_WORDS[1]}" != "completion" ]; then',
    '    COMPREPLY=($(compgen -f -- "$cur"))',
    '    [ -n "$words" ] && [ "$COMP_CWORD" -eq 2 ] && COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '    return',
    '  fi',
    '  [ "${COMP_WORDS[1]}" = "completion" ] && words="bash zsh fish"',
    '  COMPREPLY=($(compgen -W "$words" -- "$cur"))',
    '}',
    'complete -F _cairn cairn',
    '',
  ].join('\n');
}

function zsh(commands: readonly Command[]): string {
  return [
    '# zsh completion for cairn: source <(cairn completion zsh)',
    'autoload -U +X bashcompinit && bashcompinit',
    bash(commands).split('\n').slice(1).join('\n'),
  ].join('\n');
}

function quote(text: string): string {
  return `'${text.replace(/'/g, "\\'")}'`;
}

function fish(commands: readonly Command[]): string {
  const top = commands.map((c) => c.name).join(' ');
  const lines = ['# fish completion for cairn: cairn completion fish | source', 'complete -c cairn -f'];
  for (const c of commands) {
    lines.push(
      `complete -c cairn -n "not __fish_seen_subcommand_from ${top}" -a ${c.name} -d ${quote(c.summary)}`,
    );
    const leaves = c.subcommands
      ? c.subcommands.map((s) => ({
          s,
          when: `__fish_seen_subcommand_from ${c.name}; and __fish_seen_subcommand_from ${s.name}`,
        }))
      : [{ s: c, when: `__fish_seen_subcommand_from ${c.name}` }];
    if (c.subcommands) {
      const names = c.subcommands.map((s) => s.name).join(' ');
      for (const s of c.subcommands)
        lines.push(
          `complete -c cairn -n "__fish_seen_subcommand_from ${c.name}; and not __fish_seen_subcommand_from ${names}" -a ${s.name} -d ${quote(s.summary)}`,
        );
    }
    for (const { s, when } of leaves) {
      if (s.completesNamesOf)
        lines.push(
          `complete -c cairn -n "${when}" -a "(cairn ${s.completesNamesOf} list -o name 2>/dev/null)"`,
        );
      for (const [name, spec] of Object.entries(s.options)) {
        lines.push(
          `complete -c cairn -n "${when}" -l ${name}${spec.short ? ` -s ${spec.short}` : ''}${spec.type === 'string' ? ' -r' : ''}`,
        );
      }
    }
  }
  lines.push('complete -c cairn -n "__fish_seen_subcommand_from completion" -a "bash zsh fish"', '');
  return lines.join('\n');
}

export function completionScript(shell: Shell, commands: readonly Command[]): string {
  if (shell === Shell.Bash) return bash(commands);
  if (shell === Shell.Zsh) return zsh(commands);
  return fish(commands);
}
