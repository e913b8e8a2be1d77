// @ts-check
import eslint from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'dist/',
      'dist-bench/',
      'node_modules/',
      'coverage/',
      'data/',
      'src/generated/',
      'test-artifacts/',
    ],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  prettier,
  {
    languageOptions: {
      globals: { ...globals.node, ...globals.jest },
      parserOptions: {
        projectService: {
          // The one TypeScript file outside tsconfig.json (scripts are linted untyped, below).
          allowDefaultProject: ['prisma.config.ts'],
        },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/require-await': 'off',
      '@typescript-eslint/unbound-method': 'off',
    },
  },
  {
    // Preloads that tests inject into the built service: plain CommonJS, outside every tsconfig.
    files: ['test/support/*.cjs'],
    ...tseslint.configs.disableTypeChecked,
  },
  {
    // The module graph (issue 14): wiring is explicit, so every dependency shows in an import.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [
            {
              name: '@nestjs/core',
              importNames: ['ModuleRef'],
              message: 'No ModuleRef lookups: inject the provider, or let the consumer own a port.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['src/**/*.ts'],
    ignores: ['src/config/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "Decorator[expression.callee.name='Global']",
          message: 'Only ConfigModule is global: import the module whose providers you need.',
        },
      ],
    },
  },
  {
    files: ['**/*.cjs', '**/*.mjs', '**/*.js'],
    ...tseslint.configs.disableTypeChecked,
    // disableTypeChecked's languageOptions and rules spread, not replaced: replaced, these files
    // were type-linted through the default project, which refuses more than 8 of them.
    languageOptions: {
      ...tseslint.configs.disableTypeChecked.languageOptions,
      globals: { ...globals.node, ...globals.browser },
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      '@typescript-eslint/no-require-imports': 'off',
    },
  },
  {
    // The operator page's browser ES modules: typed linting through their own small program
    // (DOM types), as there are more of them than the default project takes.
    files: ['src/ui/assets/*.js'],
    languageOptions: {
      sourceType: 'module',
      parserOptions: {
        projectService: false,
        project: './src/ui/tsconfig.assets.json',
        tsconfigRootDir: import.meta.dirname,
      },
    },
  },
);
